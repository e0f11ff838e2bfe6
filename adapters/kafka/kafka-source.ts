import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { SluiceError } from '../../src/errors.ts';
import { partitionKey, toSluiceError } from './client.ts';
import type { KafkaConfig } from './config.ts';
import type { KafkaMetrics } from './kafka-metrics.ts';
import { KafkaEvent } from './kafka-event.ts';
import { KafkaSourceCore, type OffsetToCommit, type TopicPartition } from './kafka-source-core.ts';
import type { TopicAdmin } from './topic-lister.ts';

/** Errors telling a member that its generation is over: it must give its partitions up and rejoin. */
const REJOIN_TYPES = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'NOT_COORDINATOR',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
]);

const TICK = Symbol('tick');

/**
 * The kafkajs binding of the Kafka source (the shared part is {@link KafkaSourceCore}).
 *
 * - Backpressure: kafkajs hands over one fetched batch per partition (eachBatch), delivered
 *   through the core; kafkajs fetches again only once every batch of the last fetch returned, so
 *   a full queue stops the fetching. While it waits, the source heartbeats, so a slow handler
 *   does not get the member thrown out of the group.
 * - Rebalance (kafkajs' eager protocol revokes every partition): when the heartbeat that notices
 *   the rebalance is this source's own (inside eachBatch), the revoke finishes before the member
 *   rejoins; when kafkajs notices it first, it rejoins at once and the new generation's
 *   deliveries wait for the revoke instead (the new owner of a moved partition may then see some
 *   events again: at-least-once).
 */
export class KafkaSource extends KafkaSourceCore {
  private consumer: Consumer | undefined;

  constructor(
    private readonly kafka: Kafka,
    config: KafkaConfig,
    logger: Logger,
    metrics: KafkaMetrics,
    audit?: AckAudit,
    deadLetterTopics?: (topic: string) => boolean,
  ) {
    super(config, logger, metrics, audit, deadLetterTopics);
  }

  protected async connectAndJoin(): Promise<void> {
    const { config } = this;
    const consumer = this.kafka.consumer({
      groupId: config.group,
      sessionTimeout: config.sessionTimeoutMs,
      rebalanceTimeout: config.rebalanceTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      minBytes: config.fetch.minBytes,
      maxBytes: config.fetch.maxBytes,
      maxBytesPerPartition: config.fetch.maxBytesPerPartition,
      maxWaitTimeInMs: config.fetch.maxWaitTimeMs,
      readUncommitted: config.isolationLevel === 'read_uncommitted',
      allowAutoTopicCreation: false,
    });
    this.consumer = consumer;
    this.listen(consumer);
    await consumer.connect();
    this.step = `subscribe to ${this.topics.join(', ')}`;
    await consumer.subscribe({ topics: this.topics, fromBeginning: config.startFrom === 'earliest' });
    if (this.closed) return;
    this.step = `join consumer group ${config.group}`;
    const joined = this.group.expectJoin();
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    await joined;
  }

  protected openAdmin(): TopicAdmin {
    const admin = this.kafka.admin();
    return {
      list: async () => {
        await admin.connect(); // once: a connected admin returns at once
        return admin.listTopics();
      },
      close: () => admin.disconnect(),
    };
  }

  private listen(consumer: Consumer): void {
    const { GROUP_JOIN, REBALANCING, CRASH, COMMIT_OFFSETS } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      const assignment = new Map<string, TopicPartition>();
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) assignment.set(partitionKey(topic, partition), { topic, partition });
      }
      this.group.joined(assignment);
    });
    consumer.on(REBALANCING, () => void this.group.rebalancing('rebalance noticed by kafkajs'));
    consumer.on(CRASH, ({ payload }) => this.group.crashed(payload.error, payload.restart));
    consumer.on(COMMIT_OFFSETS, ({ payload }) => {
      const offsets: OffsetToCommit[] = [];
      for (const { topic, partitions } of payload.topics) {
        for (const { partition, offset } of partitions) offsets.push({ topic, partition: Number(partition), offset: String(offset) });
      }
      this.committer.confirmed(offsets);
    });
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    this.book.setHighWatermark(topic, partition, batch.highWatermark);
    const waitFor = <T>(work: Promise<T>) => this.beating(work, heartbeat);
    try {
      // The revoke of the previous generation finishes before this one delivers anything.
      if (this.group.revoking) await waitFor(this.group.revoking);
      const events = new Array<KafkaEvent>(messages.length);
      for (let i = 0; i < messages.length; i++) events[i] = KafkaEvent.of(messages[i]!);
      const delivered = await this.deliver(topic, partition, events, this.group.epoch, {
        wanted: () => isRunning() && !isStale(),
        // The fetch position only: nothing is committed until the events are acked.
        afterPart: (last) => resolveOffset(last.offset as string), // kafkajs' own offsets: text
        waitFor,
      });
      if (delivered < messages.length) return;
      // Our heartbeat rather than kafkajs' own after the batch: a rebalance noticed here is
      // revoked before the member rejoins.
      await heartbeat();
    } catch (error) {
      // Revoked before the rejoin (or joins the revoke under way); heartbeats keep the session
      // alive while the group waits for us (kafkajs is not rejoining yet).
      if (this.mustRejoin(error) && !this.closed) await this.group.rebalancing('rebalance', heartbeat);
      throw error;
    }
  }

  /** Awaits `work`, heartbeating every heartbeatIntervalMs meanwhile (a rebalance error is thrown). */
  private async beating<T>(work: Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
    work.catch(() => undefined); // handled by the caller's await; not an unhandled rejection if a heartbeat throws first
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<typeof TICK>((resolve) => (timer = setTimeout(() => resolve(TICK), this.config.heartbeatIntervalMs)));
      try {
        const result = await Promise.race([work, tick]);
        if (result !== TICK) return result as T;
      } finally {
        clearTimeout(timer);
      }
      await heartbeat();
    }
  }

  protected async commitOffsets(offsets: OffsetToCommit[]): Promise<void> {
    // kafkajs reports the commit through COMMIT_OFFSETS (recordCommit).
    await this.consumer?.commitOffsets(offsets);
  }

  protected mustRejoin(error: unknown): boolean {
    return REJOIN_TYPES.has((error as { type?: string } | undefined)?.type ?? '');
  }

  protected toSluiceError(error: unknown, what: string): SluiceError {
    return toSluiceError(error, this.config, what);
  }

  protected pauseFetching(): void {
    // Fetches of paused partitions are skipped; the member stays in the group (heartbeats,
    // commits) until close().
    if (this.consumer && this.topics.length > 0) this.consumer.pause(this.topics.map((topic) => ({ topic })));
  }

  protected async disconnectClient(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    this.consumer = undefined;
    await consumer.disconnect();
  }
}
