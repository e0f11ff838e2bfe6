import { Admin, Consumer, type ConsumeOptions, type Message, type MessagesStream } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { SluiceError } from '../../src/errors.ts';
import { errorMessage } from '../../src/errors.ts';
import { partitionKey } from './client.ts';
import { groupInstanceId, type KafkaConfig } from './config.ts';
import { HeartbeatWatch } from './heartbeat-watch.ts';
import { KafkaEvent } from './kafka-event.ts';
import type { KafkaMetrics } from './kafka-metrics.ts';
import { KafkaSourceCore, type OffsetToCommit, type TopicPartition } from './kafka-source-core.ts';
import type { TopicAdmin } from './topic-lister.ts';
import { platformaticError, type platformaticOptions, protocolErrorIds } from './platformatic-client.ts';

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;
type Options = ReturnType<typeof platformaticOptions>;

const REJOIN_IDS = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'FENCED_INSTANCE_ID',
  'FENCED_MEMBER_EPOCH',
  'STALE_MEMBER_EPOCH',
]);

/** One partition's events of a delivery, in offset order. */
type PartitionRun = { topic: string; partition: number; events: KafkaEvent[] };

/**
 * A @platformatic/kafka message as the (unbound) event it is delivered as: no record object in
 * between, and nothing of the client's message (a Map of headers, a bound commit function, bigints)
 * kept. `millis` is its timestamp as a number; the offset stays a bigint, turned into text only
 * where a position is written.
 */
function toEvent(message: Message<Buffer, Buffer, Buffer, Buffer>, millis: number): KafkaEvent {
  let headers: Record<string, Buffer> | undefined;
  if (message.headers.size > 0) {
    headers = {};
    for (const [name, value] of message.headers) if (headers[name.toString()] === undefined) headers[name.toString()] = value;
  }
  return new KafkaEvent(message.key, message.value, message.offset, millis, headers);
}

/**
 * The @platformatic/kafka binding of the Kafka source (the shared part is {@link KafkaSourceCore}).
 *
 * - Fetching: the client's MessagesStream in flowing mode, paused while a delivery is pending
 *   (see {@link read}), so a full queue fills the stream's buffer (highWaterMark) and the stream
 *   stops fetching. The client heartbeats on its own timer meanwhile.
 * - Membership: classic protocol (with static membership when a group instance id is set: a
 *   restarted instance gets its partitions back at once) or KIP-848's consumer protocol, where
 *   the broker assigns and revokes partitions incrementally.
 * - Rebalance: the client rejoins at once (classic) or hands revoked partitions back on its next
 *   heartbeat (consumer protocol); the core's revoke runs alongside. Once it is done, a fresh
 *   stream replaces the old one, so reading goes on from the committed offsets and nothing the
 *   old stream had buffered or was still fetching gets delivered.
 */
export class PlatformaticSource extends KafkaSourceCore {
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private stream: Stream | undefined;
  private streamOptions: ConsumeOptions<Buffer, Buffer, Buffer, Buffer> | undefined;
  private lastWatermarks = 0;
  /** The brokers answering, from the client's heartbeat events (health: not ready while not). */
  private readonly heartbeats: HeartbeatWatch;

  constructor(
    private readonly options: Options,
    config: KafkaConfig,
    logger: Logger,
    metrics: KafkaMetrics,
    audit?: AckAudit,
    deadLetterTopics?: (topic: string) => boolean,
  ) {
    super(config, logger.child({ kafkaClient: options.clientId }), metrics, audit, deadLetterTopics);
    this.heartbeats = new HeartbeatWatch(this.outage, config);
  }

  protected async connectAndJoin(): Promise<void> {
    const { config } = this;
    const instanceId = groupInstanceId(config);
    const group =
      config.groupProtocol === 'consumer'
        ? {
            groupProtocol: 'consumer' as const,
            rebalanceTimeout: config.rebalanceTimeoutMs,
            // The broker sets session and heartbeat under KIP-848 (group.consumer.*); the client
            // still checks its own session timeout against rebalanceTimeout.
            sessionTimeout: Math.min(config.sessionTimeoutMs, config.rebalanceTimeoutMs),
          }
        : {
            groupProtocol: 'classic' as const,
            sessionTimeout: config.sessionTimeoutMs,
            rebalanceTimeout: config.rebalanceTimeoutMs,
            heartbeatInterval: config.heartbeatIntervalMs,
          };
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...this.options,
      groupId: config.group,
      ...group,
      ...(instanceId ? { groupInstanceId: instanceId } : {}),
      autocommit: false,
      minBytes: config.fetch.minBytes,
      maxBytes: config.fetch.maxBytes,
      maxBytesPerPartition: config.fetch.maxBytesPerPartition,
      maxWaitTime: config.fetch.maxWaitTimeMs,
      isolationLevel: config.isolationLevel === 'read_committed' ? 1 : 0,
    });
    this.consumer = consumer;
    this.listen(consumer);
    this.step = `join consumer group ${config.group}${instanceId ? ` as static member ${instanceId}` : ''}`;
    this.streamOptions = {
      topics: this.topics,
      mode: 'committed',
      fallbackMode: config.startFrom,
      autocommit: false,
      highWaterMark: Math.max(64, this.sink.maxBatch),
    };
    this.group.expectJoin().catch(() => undefined); // a failure surfaces through consume()
    const stream = (await consumer.consume(this.streamOptions)) as Stream;
    if (this.group.firstJoinPending) this.group.joined(this.currentAssignment());
    this.read(stream);
    await this.refreshWatermarks();
  }

  protected openAdmin(): TopicAdmin {
    const admin = new Admin(this.options);
    return { list: () => admin.listTopics(), close: () => admin.close() };
  }

  private listen(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>): void {
    consumer.on('consumer:group:join', () => {
      this.heartbeats.joined();
      if (this.group.firstJoinPending || this.closed) return; // the first join: connectAndJoin goes on
      this.group.joined(this.currentAssignment());
    });
    consumer.on('consumer:group:rebalance', () => {
      if (this.config.groupProtocol === 'consumer') {
        // KIP-848: some partitions were revoked; no join follows, the rest keeps flowing.
        if (!this.closed) void this.group.revoke('partitions revoked by the group coordinator (consumer protocol)');
      } else void this.group.rebalancing('rebalance noticed by @platformatic/kafka');
    });
    consumer.on('consumer:heartbeat:error', ({ error }) => this.heartbeats.failed(errorMessage(error)));
    consumer.on('consumer:heartbeat:end', () => this.heartbeats.answered());
    // The client could not rejoin the group: it is out of it for good. Sluice exits non-zero.
    consumer.on('error' as never, (error: unknown) => this.group.crashed(error, false));
  }

  /** The partitions the client holds now, by `topic/partition`. */
  private currentAssignment(): Map<string, TopicPartition> {
    const assignment = new Map<string, TopicPartition>();
    for (const { topic, partitions } of this.consumer?.assignments ?? []) {
      for (const partition of partitions) assignment.set(partitionKey(topic, partition), { topic, partition });
    }
    return assignment;
  }

  /** The consumer protocol adds partitions without a join: take them into account. */
  private syncAssignment(): void {
    const { group } = this;
    if (this.config.groupProtocol !== 'consumer' || group.revoking || this.lifecycle.state !== 'joined') return;
    const now = this.currentAssignment();
    if (now.size !== group.assignment.size || [...now.keys()].some((key) => !group.assignment.has(key))) group.assignment = now;
  }

  /**
   * Reads `stream` while it is the current one, in flowing mode, as the bare client is read:
   * each message becomes its (unbound) event as it arrives, so the client's message objects (a Map of
   * headers, a bound commit function, bigints each) die at once instead of waiting in the stream's
   * buffer until a paused-mode read() takes them out, and no read() is paid per message. What
   * arrived in one go (a fetch response) is delivered from a microtask, partition by partition.
   *
   * The stream is paused only when the sink holds a delivery back (a full queue): then records
   * keep arriving while a flush is still running, and once a delivery's worth of them waits here
   * the stream is paused, fills its buffer up to its highWaterMark and stops fetching; it resumes
   * once the sink accepted everything. While the queue has room nothing is paused: pausing and
   * resuming once per fetch response cost about 1 µs per event with @platformatic/kafka (the
   * records after the pause went through the stream's buffer one read() each, and every resume
   * scheduled a fetch attempt of its own), the largest single item between Sluice and the bare
   * client in its profile. Memory stays bounded as before: at most a fetch response plus a
   * delivery's worth of records here, and the stream's highWaterMark in its buffer.
   */
  private read(stream: Stream): void {
    this.stream = stream;
    const max = Math.max(1, this.sink.maxBatch);
    let runs = new Map<string, PartitionRun>();
    // A fetch response holds each partition's records together: the run is looked up again only
    // when the partition changes, not with a new `topic/partition` string per message.
    let last: PartitionRun | undefined;
    let collected = 0;
    // Records in a row mostly share a timestamp (a producer batch's); Number(bigint) costs ~40 ns.
    let lastStamp = -1n;
    let lastMillis = 0;
    /** A flush is queued (the current fetch response is being pushed) or running. */
    let flushing = false;
    /** The flush has started: records arriving now came with a later fetch response. */
    let running = false;
    /** This reader paused the stream (the sink held a delivery back); the flush resumes it. */
    let held = false;
    const flush = async (): Promise<void> => {
      running = true;
      try {
        while (collected > 0 && stream === this.stream && !this.stopped) {
          const batch = runs;
          runs = new Map();
          last = undefined;
          collected = 0;
          if (this.group.revoking) await this.group.revoking;
          this.syncAssignment();
          const epoch = this.group.epoch;
          for (const [key, { topic, partition, events }] of batch) {
            if (!this.group.assignment.has(key)) continue; // fetched before the partition was revoked
            await this.deliver(topic, partition, events, epoch, { wanted: () => stream === this.stream });
          }
        }
      } finally {
        flushing = false;
        running = false;
      }
      if (held) {
        held = false;
        if (stream === this.stream && !this.stopped) stream.resume();
      }
    };
    stream.on('data', (message: Message<Buffer, Buffer, Buffer, Buffer>) => {
      let run = last;
      if (run === undefined || run.partition !== message.partition || run.topic !== message.topic) {
        const key = partitionKey(message.topic, message.partition);
        run = runs.get(key);
        if (!run) {
          run = { topic: message.topic, partition: message.partition, events: [] };
          runs.set(key, run);
        }
        last = run;
      }
      if (message.timestamp !== lastStamp) {
        lastStamp = message.timestamp;
        lastMillis = Number(lastStamp);
      }
      run.events.push(toEvent(message, lastMillis));
      // The sink is holding the running flush back while more records arrive: stop fetching
      // once a delivery's worth waits here (the rest of a response waits in the stream's buffer).
      if (++collected >= max && running && !held) {
        held = true;
        stream.pause();
      }
      if (flushing) return;
      flushing = true;
      queueMicrotask(() =>
        flush().catch((error: unknown) => {
          // Not expected (the sink does not reject); nothing would read on, so Sluice stops.
          this.logger.error({ error: errorMessage(error) }, 'kafka: reading the message stream failed');
          this.group.crashed(error, false);
        }),
      );
    });
    stream.on('error', (error: Error) => {
      if (stream !== this.stream || this.closed || this.stopped) return;
      this.logger.warn({ group: this.config.group, error: errorMessage(error) }, 'kafka: the message stream failed; opening a new one');
      void this.replaceStream(this.config.retry.initialRetryTimeMs);
    });
  }

  /** After a revoke: read on from the committed offsets through a fresh stream. */
  protected override async afterRevoke(): Promise<void> {
    this.syncAssignment();
    if (!this.stopped && !this.closed) await this.replaceStream(0);
  }

  private async replaceStream(delayMs: number): Promise<void> {
    const consumer = this.consumer;
    const old = this.stream;
    if (!consumer || !this.streamOptions) return;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (this.stopped || this.closed) return;
    try {
      // The new stream first: the client tracks topics by stream, and one with none left would rejoin.
      const fresh = (await consumer.consume(this.streamOptions)) as Stream;
      this.read(fresh);
    } catch (error) {
      this.logger.warn({ group: this.config.group, error: errorMessage(error) }, 'kafka: could not open a message stream; trying again');
      if (old === this.stream) void this.replaceStream(this.config.retry.maxRetryTimeMs);
      return;
    }
    // Not awaited: a stream closes only once its last fetch returned, and the revoke (which
    // the new stream's reading waits for) need not wait for that.
    old?.close().catch(() => undefined);
  }

  protected override tick(): void {
    this.heartbeats.tick(this.lifecycle.state === 'joined');
    this.syncAssignment();
    if (Date.now() - this.lastWatermarks >= Math.max(1_000, this.config.commitIntervalMs)) void this.refreshWatermarks();
  }

  /** The end offset of each partition (the client reports no high watermark with the records). */
  private async refreshWatermarks(): Promise<void> {
    this.lastWatermarks = Date.now();
    const consumer = this.consumer;
    if (!consumer || this.topics.length === 0) return;
    try {
      const ends = await consumer.listOffsets({ topics: this.topics });
      for (const [topic, offsets] of ends) {
        for (const [partition, offset] of offsets.entries()) this.book.setHighWatermark(topic, partition, offset.toString());
      }
    } catch (error) {
      this.logger.debug({ error: errorMessage(error) }, 'kafka: could not read the end offsets (lag)');
    }
  }

  protected async commitOffsets(offsets: OffsetToCommit[]): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    await consumer.commit({
      offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: BigInt(offset), leaderEpoch: -1 })),
    });
    this.committer.confirmed(offsets);
  }

  protected mustRejoin(error: unknown): boolean {
    return protocolErrorIds(error).some((id) => REJOIN_IDS.has(id));
  }

  protected toSluiceError(error: unknown, what: string): SluiceError {
    return platformaticError(error, this.config, what);
  }

  protected pauseFetching(): void {
    this.stream?.pause();
  }

  protected async disconnectClient(): Promise<void> {
    const consumer = this.consumer;
    const stream = this.stream;
    this.consumer = undefined;
    this.stream = undefined;
    await stream?.close().catch(() => undefined);
    if (consumer && !this.config.leaveGroupOnClose) {
      // A static member staying in the group: close() would send LeaveGroup (by member id, which
      // removes a static member too). Without a member id leaveGroup() sends nothing and marks
      // the membership inactive, which stops the heartbeats; close() then only disconnects.
      consumer.memberId = null;
      await new Promise<void>((resolve) => consumer.leaveGroup(true, () => resolve()));
    }
    // force: close the streams still open, then leave the group (unless left above).
    await consumer?.close(true);
  }
}
