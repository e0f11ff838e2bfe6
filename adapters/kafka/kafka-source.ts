import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { EventSink, Health, PartitionLag, Source, SourceEvent } from '../../src/broker/contract.ts';
import { OffsetTracker } from '../../src/core/offset-tracker.ts';
import { ConfigError, errorMessage, NotFoundError, SluiceError } from '../../src/errors.ts';
import { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { partitionKey, toSluiceError, within } from './client.ts';
import type { KafkaConfig } from './config.ts';
import { DeliveryLane } from './delivery-lane.ts';
import { KafkaEvent, type KafkaEventOwner, type PartitionContext, parseMillis } from './kafka-event.ts';
import { kafkaPartitionLag } from './kafka-lag.ts';
import type { KafkaMetrics, KafkaSourceView } from './kafka-metrics.ts';

type GroupState = 'new' | 'joining' | 'joined' | 'rebalancing' | 'crashed' | 'closed';

/** Errors telling a member that its generation is over: it must give its partitions up and rejoin. */
const REJOIN_TYPES = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'NOT_COORDINATOR',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
]);
const mustRejoin = (error: unknown): boolean => REJOIN_TYPES.has((error as { type?: string } | undefined)?.type ?? '');

const TICK = Symbol('tick');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads Kafka topics as a member of a consumer group and delivers into the core.
 *
 * - Backpressure: kafkajs hands over one fetched batch per partition (eachBatch); the batch is
 *   split to at most `sink.maxBatch` and each part delivered through one {@link DeliveryLane},
 *   awaiting the sink. kafkajs fetches again only once every batch of the last fetch returned, so
 *   a full queue stops the fetching; nothing piles up in the adapter. While it waits, the source
 *   heartbeats, so a slow handler does not get the member thrown out of the group.
 * - Commits: offsets are committed with `autoCommit` off, periodically, on revoke and on close,
 *   only up to the highest contiguous acked offset of each partition (src/core/offset-tracker.ts).
 * - nack: the same record comes back after `nackDelayMs` with the same tracker ticket, so no
 *   commit passes it meanwhile.
 * - Rebalance (kafkajs' eager protocol revokes every partition): deliveries stop, in-flight
 *   events get `revokeTimeoutMs` to finish, their offsets are committed, the tracker is reset
 *   (later acks of those events are ignored), then the member rejoins and reads on from the
 *   committed offsets. When the heartbeat that notices the rebalance is this source's own (inside
 *   eachBatch), all of that happens before the member rejoins; when kafkajs notices it first, it
 *   rejoins at once and the new generation's deliveries wait for the revoke instead (the new
 *   owner of a moved partition may then see some events again: at-least-once).
 */
export class KafkaSource implements Source, KafkaEventOwner, KafkaSourceView {
  readonly commits = new CommitCounts();
  private readonly tracker = new OffsetTracker();
  private readonly partitions = new Map<string, { topic: string; partition: number }>();
  /** Partitions assigned at the last join, by `topic/partition`. */
  private assignment = new Map<string, { topic: string; partition: number }>();
  /** Next offset to read as last committed by this source, per partition. */
  private readonly committed = new Map<string, string>();
  /** First offset delivered in this generation, per partition: the position before any ack. */
  private readonly basePositions = new Map<string, string>();
  private readonly highWatermarks = new Map<string, string>();
  private consumer: Consumer | undefined;
  private sink!: EventSink;
  private lane: DeliveryLane | undefined;
  private topics: string[] = [];
  private state: GroupState = 'new';
  private stateDetail = '';
  private step = 'connect';
  /** Bumped when the tracker is reset: redeliveries of older events are dropped. */
  private generation = 0;
  /** Bumped when a revoke begins: batches fetched before it are not delivered. */
  private epoch = 0;
  private revoking: Promise<void> | undefined;
  /** A revoke ran (or runs) for the current generation of the group. */
  private revokedSinceJoin = false;
  /** Between a revoke and the next join nothing is delivered. */
  private awaitingJoin = false;
  private joins = 0;
  private joinWaiter: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private redeliveries: KafkaEvent[] = [];
  private flushing: Promise<void> | undefined;
  private committing: Promise<void> = Promise.resolve();
  private commitTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private closed = false;
  private stopping: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: KafkaConfig,
    private readonly logger: Logger,
    private readonly metrics: KafkaMetrics,
  ) {
    if (!config.topics && !config.topicPattern) {
      throw new ConfigError('broker.kafka.topics', 'a Kafka source needs `topics` (a list) or `topicPattern` (a regular expression)');
    }
  }

  async start(sink: EventSink): Promise<void> {
    if (this.state !== 'new') throw new SluiceError(`kafka source already ${this.state}`);
    this.state = 'joining';
    this.sink = sink;
    this.lane = new DeliveryLane((events) => sink.deliver(events));
    this.metrics.sources.add(this);
    const { startTimeoutMs, group, brokers } = this.config;
    try {
      await within(
        this.connectAndJoin(),
        startTimeoutMs,
        () => `kafka: could not ${this.step} at brokers ${brokers.join(',')} within ${startTimeoutMs} ms (broker.kafka.startTimeoutMs)`,
      );
    } catch (error) {
      const failure = toSluiceError(error, this.config, this.step);
      this.state = 'crashed';
      this.stateDetail = failure.message;
      this.closed = true;
      this.metrics.sources.delete(this);
      await this.disconnect();
      throw failure;
    }
    this.commitTimer = setInterval(
      () => void this.commit().catch((error: unknown) => this.commitFailed(error)),
      this.config.commitIntervalMs,
    );
    this.commitTimer.unref();
    this.logger.info({ group, topics: this.topics, partitions: [...this.assignment.keys()] }, 'kafka source joined its consumer group');
  }

  async stop(): Promise<void> {
    this.stopping ??= this.halt();
    return this.stopping;
  }

  async close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  health(): Health {
    const group = `kafka group ${this.config.group}`;
    switch (this.state) {
      case 'joined': {
        const held = this.assignment.size;
        const detail =
          held === 0
            ? `${group}: member with no partitions (more members than partitions)`
            : `${group}: ${held} partition(s) of ${this.topics.join(', ')}`;
        return { connected: true, detail: this.stopped ? `${detail}; stopping` : detail };
      }
      case 'rebalancing':
        return { connected: false, detail: `${group}: rebalancing` };
      case 'crashed':
        return { connected: false, detail: `${group}: ${this.stateDetail}` };
      case 'closed':
        return { connected: false, detail: 'closed' };
      default:
        return { connected: false, detail: `${group}: ${this.state}` };
    }
  }

  // --- KafkaSourceView (metrics) ---

  connected(): boolean {
    return this.state === 'joined';
  }

  *lag(): Iterable<PartitionLag> {
    for (const [key, highWatermark] of this.highWatermarks) {
      const where = this.assignment.get(key);
      if (!where) continue;
      const lag = kafkaPartitionLag({
        topic: where.topic,
        name: key,
        highWatermark,
        committed: this.committed.get(key) ?? this.basePositions.get(key),
        progress: this.tracker.has(key) ? this.tracker.partition(key) : undefined,
      });
      if (lag) yield lag;
    }
  }

  // --- KafkaEventOwner ---

  acked(event: KafkaEvent): void {
    if (!this.closed) event.context.progress.complete(event.ticket);
  }

  nacked(event: KafkaEvent): void {
    if (this.closed || this.stopped) return;
    const again = event.redelivery();
    const timer = setTimeout(() => {
      if (this.stopped || again.generation !== this.generation) return;
      this.redeliveries.push(again);
      this.flushRedeliveries();
    }, this.config.nackDelayMs);
    timer.unref();
  }

  // --- start ---

  private async connectAndJoin(): Promise<void> {
    const { config } = this;
    this.step = 'connect';
    this.topics = await this.resolveTopics();
    for (const topic of this.topics) this.commits.declare(topic);
    if (this.closed) return;
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
    const joined = new Promise<void>((resolve, reject) => (this.joinWaiter = { resolve, reject }));
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    await joined;
  }

  /** The topics to read: the configured list (each must exist), or those matching the pattern. */
  private async resolveTopics(): Promise<string[]> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = await admin.listTopics();
      const brokers = this.config.brokers.join(',');
      if (this.config.topicPattern) {
        const pattern = new RegExp(this.config.topicPattern);
        const matched = existing.filter((topic) => !topic.startsWith('__') && !topic.endsWith('.dlq') && pattern.test(topic)).sort();
        if (matched.length === 0) {
          throw new NotFoundError(`kafka: no topic at ${brokers} matches broker.kafka.topicPattern /${this.config.topicPattern}/`);
        }
        return matched;
      }
      const topics = this.config.topics!;
      const missing = topics.filter((topic) => !existing.includes(topic));
      if (missing.length > 0) {
        throw new NotFoundError(
          `kafka: topic ${missing.join(', ')} does not exist at ${brokers} (or is not visible to this user); create it or fix broker.kafka.topics`,
        );
      }
      return topics;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private listen(consumer: Consumer): void {
    const { GROUP_JOIN, REBALANCING, CRASH, COMMIT_OFFSETS } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => this.onJoin(payload.memberAssignment));
    consumer.on(REBALANCING, () => this.onRebalancing());
    consumer.on(CRASH, ({ payload }) => this.onCrash(payload.error, payload.restart));
    consumer.on(COMMIT_OFFSETS, ({ payload }) => {
      for (const { topic, partitions } of payload.topics) {
        this.commits.commit(topic);
        for (const { partition, offset } of partitions) this.committed.set(partitionKey(topic, Number(partition)), String(offset));
      }
    });
  }

  // --- group events ---

  private onJoin(memberAssignment: Record<string, number[]>): void {
    this.joins++;
    const assignment = new Map<string, { topic: string; partition: number }>();
    for (const [topic, partitions] of Object.entries(memberAssignment)) {
      for (const partition of partitions) assignment.set(partitionKey(topic, partition), { topic, partition });
    }
    this.assignment = assignment;
    this.state = 'joined';
    this.stateDetail = '';
    this.awaitingJoin = false;
    if (this.joinWaiter) {
      this.joinWaiter.resolve();
      this.joinWaiter = undefined;
    } else {
      this.logger.info({ group: this.config.group, partitions: [...assignment.keys()] }, 'kafka consumer group joined again');
    }
    // A join not preceded by a revoke (kafkajs rejoined after a crash, an unknown member id,
    // changed metadata): what is in flight belongs to the old generation.
    const needsRevoke = this.joins > 1 && !this.revokedSinceJoin;
    this.revokedSinceJoin = false;
    if (needsRevoke) void this.revoke('the group was joined again');
    else if (!this.revoking) this.forgetUnassigned();
  }

  private onRebalancing(): void {
    if (this.closed) return;
    this.state = 'rebalancing';
    this.awaitingJoin = true;
    if (this.revokedSinceJoin) return; // this source's own heartbeat noticed it: already revoked
    this.revokedSinceJoin = true;
    void this.revoke('rebalance noticed by kafkajs');
  }

  private onCrash(error: unknown, restart: boolean): void {
    const failure = toSluiceError(error, this.config, this.step);
    if (this.joinWaiter) {
      this.joinWaiter.reject(error);
      this.joinWaiter = undefined;
      return;
    }
    if (this.closed) return;
    this.state = 'crashed';
    this.stateDetail = `consumer failed: ${failure.message}${restart ? '; restarting' : ''}`;
    this.logger.error({ error: failure.message, restart }, 'kafka consumer failed');
    // kafkajs restarts the consumer unless the error is not retriable: then it is over, and
    // Sluice stops and exits non-zero so a supervisor can start it again.
    if (!restart) this.sink.fatal(failure);
    this.awaitingJoin = true;
    if (this.revokedSinceJoin) return;
    this.revokedSinceJoin = true;
    void this.revoke('consumer failed');
  }

  // --- consuming ---

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    const key = partitionKey(topic, partition);
    this.highWatermarks.set(key, batch.highWatermark);
    if (!this.partitions.has(key)) this.partitions.set(key, { topic, partition });
    try {
      // The revoke of the previous generation finishes before this one delivers anything.
      if (this.revoking) await this.beating(this.revoking, heartbeat);
      const epoch = this.epoch;
      const max = Math.max(1, this.sink.maxBatch);
      for (let start = 0; start < messages.length; start += max) {
        const end = Math.min(messages.length, start + max);
        const build = (): SourceEvent[] | undefined => {
          if (this.stopped || this.awaitingJoin || epoch !== this.epoch || !isRunning() || isStale()) return undefined;
          const progress = this.tracker.partition(key);
          const context: PartitionContext = { owner: this, topic, partition, name: key, progress, generation: this.generation };
          if (!this.basePositions.has(key)) this.basePositions.set(key, messages[start]!.offset);
          const events = new Array<SourceEvent>(end - start);
          for (let i = start; i < end; i++) {
            const message = messages[i]!;
            events[i - start] = new KafkaEvent(context, message, progress.track(message.offset), 1);
          }
          progress.stamp((events[0] as KafkaEvent).ticket, end - start, (i) => parseMillis(messages[start + i]!.timestamp));
          return events;
        };
        const delivered = await this.beating(this.lane!.run(build), heartbeat);
        if (!delivered) return;
        // The fetch position only: nothing is committed until the events are acked.
        resolveOffset(messages[end - 1]!.offset);
      }
      // Our heartbeat rather than kafkajs' own after the batch: a rebalance noticed here is
      // revoked before the member rejoins.
      await heartbeat();
    } catch (error) {
      if (mustRejoin(error) && !this.closed) {
        if (!this.revokedSinceJoin) {
          this.revokedSinceJoin = true;
          this.state = 'rebalancing';
          this.awaitingJoin = true;
          await this.revoke('rebalance', heartbeat);
        } else if (this.revoking) {
          await this.revoking;
        }
      }
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

  private flushRedeliveries(): void {
    if (this.flushing || !this.lane) return;
    const lane = this.lane;
    this.flushing = (async () => {
      while (this.redeliveries.length > 0 && !this.stopped) {
        const batch = this.redeliveries.splice(0, Math.max(1, this.sink.maxBatch));
        await lane.run(() => (this.stopped ? undefined : batch.filter((event) => event.generation === this.generation)));
      }
    })()
      .catch((error: unknown) => this.logger.error({ error: errorMessage(error) }, 'kafka: redelivery failed'))
      .finally(() => {
        this.flushing = undefined;
        if (this.redeliveries.length > 0 && !this.stopped) this.flushRedeliveries();
      });
  }

  // --- rebalance ---

  private revoke(reason: string, heartbeat?: () => Promise<void>): Promise<void> {
    this.revoking ??= this.runRevoke(reason, heartbeat).finally(() => {
      this.revoking = undefined;
    });
    return this.revoking;
  }

  /**
   * Stops delivering, gives in-flight events `revokeTimeoutMs` to finish, commits, and resets
   * the tracker so that acks arriving later are ignored.
   */
  private async runRevoke(reason: string, heartbeat: (() => Promise<void>) | undefined): Promise<void> {
    this.epoch++;
    this.metrics.rebalances++;
    const joinsAtStart = this.joins;
    // Events of ours still waiting in the core's queue are taken back: the partitions' next
    // owner delivers them again, so processing them here would only duplicate. Their tickets
    // stay pending, which keeps the commit below them.
    const discarded = this.sink.discard((event) => event instanceof KafkaEvent && event.context.owner === this).length;
    const inFlight = this.inFlight() - discarded;
    this.logger.info({ group: this.config.group, reason, inFlight, discarded }, 'kafka partitions revoked: finishing in-flight events');
    const deadline = Date.now() + this.config.revokeTimeoutMs;
    let lastBeat = Date.now();
    while (this.inFlight() > discarded && Date.now() < deadline && !this.closed) {
      await sleep(10);
      // Keep the session alive while the group waits for us (only when kafkajs is not rejoining
      // already: then its JoinGroup request is pending on the coordinator connection).
      if (heartbeat && Date.now() - lastBeat >= this.config.heartbeatIntervalMs) {
        lastBeat = Date.now();
        heartbeat().catch(() => undefined);
      }
    }
    const unfinished = this.inFlight() - discarded;
    // When kafkajs rejoined meanwhile, commit only partitions this member still holds: a moved
    // partition's new owner may have committed further already.
    const rejoined = this.joins !== joinsAtStart;
    await this.commit(rejoined ? (key) => this.assignment.has(key) : undefined).catch((error: unknown) => this.commitFailed(error));
    if (unfinished > 0) {
      this.logger.warn(
        { group: this.config.group, unfinished, revokeTimeoutMs: this.config.revokeTimeoutMs },
        'kafka revoke: events still in flight were released; the partition owner will deliver them again',
      );
    }
    this.generation++;
    for (const progress of this.tracker.all()) progress.reset();
    this.committed.clear();
    this.basePositions.clear();
    this.redeliveries = [];
    if (rejoined || !this.awaitingJoin) this.forgetUnassigned();
  }

  /** Drops the bookkeeping of partitions this member no longer holds. */
  private forgetUnassigned(): void {
    for (const key of [...this.partitions.keys()]) {
      if (this.assignment.has(key)) continue;
      this.tracker.remove(key);
      this.partitions.delete(key);
      this.highWatermarks.delete(key);
    }
  }

  private inFlight(): number {
    let count = 0;
    for (const progress of this.tracker.all()) count += progress.pending;
    return count;
  }

  // --- commits ---

  /** Commits each partition's next offset (one past the highest contiguous acked), serialised. */
  private commit(include?: (key: string) => boolean): Promise<void> {
    const run = this.committing.then(() => this.commitNow(include));
    this.committing = run.catch(() => undefined);
    return run;
  }

  private async commitNow(include?: (key: string) => boolean): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    for (const progress of this.tracker.all()) {
      const done = progress.committable;
      if (done === undefined) continue;
      const key = progress.partition;
      if (include && !include(key)) continue;
      const next = (BigInt(done) + 1n).toString();
      if (this.committed.get(key) === next) continue;
      const where = this.partitions.get(key);
      if (where) offsets.push({ topic: where.topic, partition: where.partition, offset: next });
    }
    if (offsets.length === 0) return;
    try {
      await within(
        consumer.commitOffsets(offsets),
        this.config.requestTimeoutMs,
        () => `kafka: offset commit not confirmed within ${this.config.requestTimeoutMs} ms`,
      );
    } catch (error) {
      for (const topic of new Set(offsets.map((offset) => offset.topic))) this.commits.fail(topic);
      throw error;
    }
  }

  private commitFailed(error: unknown): void {
    // During a rebalance the coordinator refuses commits of the old generation: expected.
    const level = mustRejoin(error) || this.state !== 'joined' ? 'debug' : 'warn';
    this.logger[level]({ group: this.config.group, error: errorMessage(error) }, 'kafka offset commit failed; it is tried again');
  }

  // --- stop / close ---

  private async halt(): Promise<void> {
    this.stopped = true;
    if (this.consumer && this.topics.length > 0) {
      try {
        // Fetches of paused partitions are skipped; the member stays in the group (heartbeats,
        // commits) until close().
        this.consumer.pause(this.topics.map((topic) => ({ topic })));
      } catch {
        // not running (start failed, or crashed): nothing to pause
      }
    }
    await this.lane?.drained();
    await this.flushing;
  }

  private async shutdown(): Promise<void> {
    await this.stop();
    clearInterval(this.commitTimer);
    if (this.revoking) await this.revoking;
    if (!this.closed) {
      this.closed = true; // settling is a no-op from here on
      await this.commit().catch((error: unknown) =>
        this.logger.warn(
          { group: this.config.group, error: errorMessage(error) },
          'kafka: final offset commit failed; uncommitted events will be delivered again',
        ),
      );
    }
    await this.disconnect();
    this.state = 'closed';
    this.metrics.sources.delete(this);
  }

  private async disconnect(): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    this.consumer = undefined;
    const bound = this.config.requestTimeoutMs + this.config.fetch.maxWaitTimeMs;
    await within(consumer.disconnect(), bound, () => `kafka: consumer did not disconnect within ${bound} ms`).catch((error: unknown) =>
      this.logger.warn({ error: errorMessage(error) }, 'kafka consumer disconnect failed'),
    );
  }
}
