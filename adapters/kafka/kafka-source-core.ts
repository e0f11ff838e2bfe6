import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { EventSink, Health, PartitionLag, Source, SourceEvent } from '../../src/broker/contract.ts';
import { errorMessage, SluiceError } from '../../src/errors.ts';
import { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { sleep } from '../../src/util/sleep.ts';
import { partitionKey, within } from './client.ts';
import type { KafkaConfig } from './config.ts';
import { type DeliverOptions, DeliveryLane } from './delivery-lane.ts';
import { KafkaEvent, type KafkaEventOwner, type KafkaRecord, type PartitionContext, recordMillis } from './kafka-event.ts';
import type { KafkaMetrics, KafkaSourceView } from './kafka-metrics.ts';
import { type OffsetToCommit, PartitionBook, type TopicPartition } from './partition-book.ts';
import { requireTopics } from './preflight.ts';
import { topicsToRead } from './topics-to-read.ts';

type GroupState = 'new' | 'joining' | 'joined' | 'rebalancing' | 'crashed' | 'closed';
export type { OffsetToCommit, TopicPartition };

/**
 * What both Kafka sources (kafkajs, @platformatic/kafka) share; a client binding extends it and
 * adds only fetching, committing, group membership and error mapping.
 *
 * - Delivery: the binding hands each partition's records, in offset order, to {@link deliver},
 *   which splits them to at most `sink.maxBatch`, tracks each in the offset tracker and awaits
 *   the sink through one {@link DeliveryLane}. The binding fetches again only after that
 *   resolved, so a full queue stops the fetching.
 * - Commits: periodically, on revoke and on close, only up to the highest contiguous acked offset
 *   of each partition (src/source-kit/offset-tracker.ts), through the binding's {@link commitOffsets}.
 * - nack: the same record comes back after `nackDelayMs` with the same tracker ticket, so no
 *   commit passes it meanwhile.
 * - Revoke ({@link revoke}): deliveries stop, events of this source still waiting in the core's
 *   queue are taken back (sink.discard), in-flight events get `revokeTimeoutMs` to finish, their
 *   offsets are committed, the tracker is reset (later acks of those events are ignored).
 * - Lag: high watermark (reported by the binding) minus the committed offset, and the age of the
 *   oldest record read and not yet acked (kafka-lag.ts).
 */
export abstract class KafkaSourceCore implements Source, KafkaEventOwner, KafkaSourceView {
  /** Offsets, commits, high watermarks and lag of the partitions read (and, audited, what a commit covers). */
  protected readonly book: PartitionBook;
  /** Offset commits made and failed, by topic (the shared sluice_source_commit* series). */
  readonly commits = new CommitCounts();
  /** Partitions assigned at the last join, by `topic/partition`. */
  protected assignment = new Map<string, TopicPartition>();
  protected sink!: EventSink;
  protected lane: DeliveryLane | undefined;
  protected topics: string[] = [];
  protected state: GroupState = 'new';
  protected stateDetail = '';
  protected step = 'connect';
  /** Bumped when the tracker is reset: redeliveries of older events are dropped. */
  protected generation = 0;
  /** Bumped when a revoke begins: records fetched before it are not delivered. */
  protected epoch = 0;
  protected revoking: Promise<void> | undefined;
  /** A revoke ran (or runs) for the current generation of the group. */
  protected revokedSinceJoin = false;
  /** Between a revoke and the next join nothing is delivered. */
  protected awaitingJoin = false;
  protected joins = 0;
  protected joinWaiter: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private redeliveries: KafkaEvent[] = [];
  private flushing: Promise<void> | undefined;
  private committing: Promise<void> = Promise.resolve();
  private commitTimer: NodeJS.Timeout | undefined;
  protected stopped = false;
  protected closed = false;
  private stopping: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    protected readonly config: KafkaConfig,
    protected readonly logger: Logger,
    protected readonly metrics: KafkaMetrics,
    audit?: AckAudit,
  ) {
    this.book = new PartitionBook(audit);
    requireTopics(config);
  }

  // --- the client binding ---

  /** Connects, subscribes to {@link topics} and joins the group; resolves once joined. */
  protected abstract connectAndJoin(): Promise<void>;
  /** The names of the topics at the brokers. */
  protected abstract listTopics(): Promise<string[]>;
  /** Commits `offsets` (each the next offset to read) for the group. */
  protected abstract commitOffsets(offsets: OffsetToCommit[]): Promise<void>;
  /** Stops fetching; the member stays in the group until {@link disconnect}. */
  protected abstract pauseFetching(): void;
  /** Leaves the group and closes the client's connections. */
  protected abstract disconnectClient(): Promise<void>;
  /** The error tells that this member's generation is over (commits are refused meanwhile). */
  protected abstract mustRejoin(error: unknown): boolean;
  /** A Sluice error naming the brokers and what to check. */
  protected abstract toSluiceError(error: unknown, what: string): SluiceError;
  /** Called at the end of a revoke, once the tracker was reset. */
  protected afterRevoke(): void | Promise<void> {}

  // --- Source ---

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
      const failure = this.toSluiceError(error, this.step);
      this.state = 'crashed';
      this.stateDetail = failure.message;
      this.closed = true;
      this.metrics.sources.delete(this);
      await this.disconnect();
      throw failure;
    }
    this.commitTimer = setInterval(() => this.tick(), this.config.commitIntervalMs);
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

  lag(): Iterable<PartitionLag> {
    return this.book.lag((key) => this.assignment.has(key));
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

  // --- for the binding ---

  /** Every commitIntervalMs: commit; a binding may do more (refresh the high watermarks). */
  protected tick(): void {
    void this.commit().catch((error: unknown) => this.commitFailed(error));
  }

  /**
   * The topics to read: the configured list (each must exist), or those matching the pattern.
   * Their commit counters start at 0, as Prometheus wants counters to.
   */
  protected async resolveTopics(): Promise<string[]> {
    const topics = topicsToRead(this.config, await this.listTopics());
    for (const topic of topics) this.commits.declare(topic);
    return topics;
  }

  /**
   * Delivers `records` of one partition (offset order) in parts of at most sink.maxBatch, each
   * awaited. `wanted` is asked when a part's turn in the lane has come; when it says no (or the
   * source stopped, or a revoke began since `epoch`), nothing more is delivered and this resolves
   * to the number of records delivered (or skipped) so far. Records this member delivered in this
   * generation or completed before its last revoke (a rejoin after a broker outage, or a new
   * fetch stream, reads from the committed offset again) are skipped: PartitionBook.alreadyDone.
   */
  protected async deliver(
    topic: string,
    partition: number,
    records: readonly KafkaRecord[],
    epoch: number,
    options: DeliverOptions = {},
  ): Promise<number> {
    const { wanted, afterPart, waitFor } = options;
    const key = partitionKey(topic, partition);
    const max = Math.max(1, this.sink.maxBatch);
    if (this.stopped || this.awaitingJoin || epoch !== this.epoch || (wanted && !wanted())) return 0;
    const skipped = this.book.alreadyDone(topic, partition, records);
    if (skipped > 0) {
      this.logger.debug({ partition: key, skipped, upTo: records[skipped - 1]!.offset }, 'kafka: skipped records done before the rejoin');
      afterPart?.(records[skipped - 1]!);
    }
    for (let start = skipped; start < records.length; start += max) {
      const end = Math.min(records.length, start + max);
      const build = (): SourceEvent[] | undefined => {
        if (this.stopped || this.awaitingJoin || epoch !== this.epoch || (wanted && !wanted())) return undefined;
        const progress = this.book.progress(topic, partition, records[start]!.offset);
        const context: PartitionContext = { owner: this, topic, partition, name: key, progress, generation: this.generation };
        const events = new Array<SourceEvent>(end - start);
        for (let i = start; i < end; i++) {
          const record = records[i]!;
          events[i - start] = new KafkaEvent(context, record, progress.track(record.offset), 1);
        }
        progress.stamp((events[0] as KafkaEvent).ticket, end - start, (i) => recordMillis(records[start + i]!));
        this.book.tracked(topic, partition, records[end - 1]!.offset);
        this.book.audited(key, records, start, end);
        return events;
      };
      const delivering = this.lane!.run(build);
      const delivered = await (waitFor ? waitFor(delivering) : delivering);
      if (!delivered) return start;
      afterPart?.(records[end - 1]!);
    }
    return records.length;
  }

  /** The group assigned these partitions (a join completed). */
  protected onJoin(assignment: Map<string, TopicPartition>): void {
    this.joins++;
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
    // A join not preceded by a revoke (the client rejoined after a crash, an unknown member id,
    // changed metadata): what is in flight belongs to the old generation.
    const needsRevoke = this.joins > 1 && !this.revokedSinceJoin;
    this.revokedSinceJoin = false;
    if (needsRevoke) void this.revoke('the group was joined again');
    else if (!this.revoking) this.forgetUnassigned();
  }

  /** The client noticed a rebalance and is rejoining (or about to). */
  protected onRebalancing(reason: string): void {
    if (this.closed) return;
    this.state = 'rebalancing';
    this.awaitingJoin = true;
    if (this.revokedSinceJoin) return; // already revoked for this generation
    this.revokedSinceJoin = true;
    void this.revoke(reason);
  }

  /** The client failed; `restart` says whether it recovers by itself. */
  protected onCrash(error: unknown, restart: boolean): void {
    const failure = this.toSluiceError(error, this.step);
    if (this.joinWaiter) {
      this.joinWaiter.reject(error);
      this.joinWaiter = undefined;
      return;
    }
    if (this.closed) return;
    this.state = 'crashed';
    this.stateDetail = `consumer failed: ${failure.message}${restart ? '; restarting' : ''}`;
    this.logger.error({ error: failure.message, restart }, 'kafka consumer failed');
    // Not recovering: Sluice stops and exits non-zero so a supervisor can start it again.
    if (!restart) this.sink.fatal(failure);
    this.awaitingJoin = true;
    if (this.revokedSinceJoin) return;
    this.revokedSinceJoin = true;
    void this.revoke('consumer failed');
  }

  /** Offsets the group confirmed (from the client's commit event or the binding's commit). */
  protected recordCommit(offsets: readonly OffsetToCommit[]): void {
    for (const topic of new Set(offsets.map((offset) => offset.topic))) this.commits.commit(topic);
    this.book.committedAt(offsets);
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

  // --- revoke ---

  /** Runs one revoke at a time; `keepAlive` is called every heartbeatIntervalMs while it waits. */
  protected revoke(reason: string, keepAlive?: () => Promise<void>): Promise<void> {
    // Counted per rebalance noticed, also when it joins a revoke still running for the last one.
    this.metrics.rebalances++;
    this.revoking ??= this.runRevoke(reason, keepAlive).finally(() => {
      this.revoking = undefined;
    });
    return this.revoking;
  }

  /**
   * Stops delivering, gives in-flight events `revokeTimeoutMs` to finish, commits, and resets
   * the tracker so that acks arriving later are ignored.
   */
  private async runRevoke(reason: string, keepAlive: (() => Promise<void>) | undefined): Promise<void> {
    this.epoch++;
    const joinsAtStart = this.joins;
    const assignmentAtStart = this.assignment;
    // Events of ours still waiting in the core's queue are taken back: the partitions' next
    // owner delivers them again, so processing them here would only duplicate. Their tickets
    // stay pending, which keeps the commit below them.
    const discarded = this.sink.discard((event) => event instanceof KafkaEvent && event.context.owner === this).length;
    const inFlight = this.book.inFlight() - discarded;
    this.logger.info({ group: this.config.group, reason, inFlight, discarded }, 'kafka partitions revoked: finishing in-flight events');
    const deadline = Date.now() + this.config.revokeTimeoutMs;
    let lastBeat = Date.now();
    while (this.book.inFlight() > discarded && Date.now() < deadline && !this.closed) {
      await sleep(10);
      if (keepAlive && Date.now() - lastBeat >= this.config.heartbeatIntervalMs) {
        lastBeat = Date.now();
        keepAlive().catch(() => undefined);
      }
    }
    const unfinished = this.book.inFlight() - discarded;
    // When the group was joined meanwhile (or the assignment changed), commit only partitions
    // this member still holds: a moved partition's new owner may have committed further already.
    const moved = this.joins !== joinsAtStart || this.assignment !== assignmentAtStart;
    await this.commit(moved ? (key) => this.assignment.has(key) : undefined).catch((error: unknown) => this.commitFailed(error));
    if (unfinished > 0) {
      this.logger.warn(
        { group: this.config.group, unfinished, revokeTimeoutMs: this.config.revokeTimeoutMs },
        'kafka revoke: events still in flight were released; the partition owner will deliver them again',
      );
    }
    this.generation++;
    this.book.reset();
    this.redeliveries = [];
    if (moved || !this.awaitingJoin) this.forgetUnassigned();
    await this.afterRevoke();
  }

  /** Drops the bookkeeping of partitions this member no longer holds. */
  protected forgetUnassigned(): void {
    this.book.forget((key) => this.assignment.has(key));
  }

  // --- commits ---

  /** Commits each partition's next offset (one past the highest contiguous acked), serialised. */
  protected commit(include?: (key: string) => boolean): Promise<void> {
    const run = this.committing.then(() => this.commitNow(include));
    this.committing = run.catch(() => undefined);
    return run;
  }

  private async commitNow(include?: (key: string) => boolean): Promise<void> {
    const offsets = this.book.toCommit(include);
    if (offsets.length === 0) return;
    this.book.auditCommit(offsets);
    try {
      await within(
        this.commitOffsets(offsets),
        this.config.requestTimeoutMs,
        () => `kafka: offset commit not confirmed within ${this.config.requestTimeoutMs} ms`,
      );
    } catch (error) {
      for (const topic of new Set(offsets.map((offset) => offset.topic))) this.commits.fail(topic);
      throw error;
    }
  }

  protected commitFailed(error: unknown): void {
    // During a rebalance the coordinator refuses commits of the old generation: expected.
    const level = this.mustRejoin(error) || this.state !== 'joined' ? 'debug' : 'warn';
    this.logger[level]({ group: this.config.group, error: errorMessage(error) }, 'kafka offset commit failed; it is tried again');
  }

  // --- stop / close ---

  private async halt(): Promise<void> {
    this.stopped = true;
    try {
      this.pauseFetching();
    } catch {
      // not running (start failed, or crashed): nothing to pause
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
    const bound = this.config.requestTimeoutMs + this.config.fetch.maxWaitTimeMs;
    await within(this.disconnectClient(), bound, () => `kafka: consumer did not disconnect within ${bound} ms`).catch((error: unknown) =>
      this.logger.warn({ error: errorMessage(error) }, 'kafka consumer disconnect failed'),
    );
  }
}
