import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { EventSink, Health, PartitionLag, Source, SourceEvent } from '../../src/broker/contract.ts';
import { errorMessage, type SluiceError } from '../../src/errors.ts';
import { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { DeliveryLane, Lifecycle, Outage, Redelivery } from '../../src/source-kit/index.ts';
import { checkBrokerCertificates } from './certificate-check.ts';
import { partitionKey, within } from './client.ts';
import type { KafkaConfig } from './config.ts';
import { KafkaCommitter } from './kafka-committer.ts';
import { KafkaEvent, type KafkaEventOwner, type PartitionContext } from './kafka-event.ts';
import { type GroupState, KafkaMembership } from './kafka-membership.ts';
import type { KafkaMetrics, KafkaSourceView } from './kafka-metrics.ts';
import { type OffsetToCommit, PartitionBook, type TopicPartition } from './partition-book.ts';
import { requireTopics } from './preflight.ts';
import { type TopicAdmin, TopicLister } from './topic-lister.ts';
import { TopicWatch } from './topic-watch.ts';
import { topicsToRead } from './topics-to-read.ts';

export type { OffsetToCommit, TopicPartition };

/** How {@link KafkaSourceCore.deliver} runs one partition's events through the lane. */
export interface DeliverOptions {
  /** Asked when a part's turn in the lane has come: false drops it and the rest. */
  wanted?: () => boolean;
  /** Runs after each delivered part with its last event. */
  afterPart?: (last: KafkaEvent) => void;
  /** Wraps each wait for the sink (kafkajs heartbeats meanwhile). */
  waitFor?: <T>(work: Promise<T>) => Promise<T>;
}

/**
 * What both Kafka sources (kafkajs, @platformatic/kafka) share, on the source kit
 * (src/source-kit); a client binding extends it and adds only fetching, committing, group
 * membership events and error mapping.
 *
 * - Delivery: the binding hands each partition's records, in offset order, to {@link deliver},
 *   which splits them to at most `sink.maxBatch`, tracks each in the offset tracker and awaits
 *   the sink through the kit's one {@link DeliveryLane}. The binding fetches again only after
 *   that resolved, so a full queue stops the fetching.
 * - Commits ({@link KafkaCommitter}): periodically, on revoke and on close, only up to the highest
 *   contiguous acked offset of each partition, through the binding's {@link commitOffsets}.
 * - nack: the kit's {@link Redelivery}: the same record comes back after `nackDelayMs` with the
 *   same tracker ticket, so no commit passes it meanwhile; the later records of its partition and
 *   key that no worker started are taken back and come after it (features.nackKeepsKeyOrder).
 * - Membership and revoke: {@link KafkaMembership}.
 * - Lag: high watermark (reported by the binding) minus the committed offset, and the age of the
 *   oldest record read and not yet acked (kafka-lag.ts).
 */
export abstract class KafkaSourceCore implements Source, KafkaEventOwner, KafkaSourceView {
  /** Offsets, commits, high watermarks and lag of the partitions read (and, audited, what a commit covers). */
  protected readonly book: PartitionBook;
  /** Offset commits made and failed, by topic (the shared sluice_source_commit* series). */
  readonly commits = new CommitCounts();
  protected readonly lifecycle = new Lifecycle<GroupState>('kafka source', { halt: () => this.halt(), shutdown: () => this.shutdown() });
  protected readonly group: KafkaMembership;
  protected readonly committer: KafkaCommitter;
  /**
   * The brokers stopped answering a client that retries by itself and stays in the group
   * (@platformatic/kafka: its failed heartbeats); the source is not ready while it lasts. kafkajs
   * reports the same as a crash of its consumer instead (lifecycle 'crashed').
   */
  protected readonly outage: Outage;
  /** The topic listings' one admin connection. */
  private readonly topicLister = new TopicLister(
    () => this.openAdmin(),
    () => this.lifecycle.closed,
  );
  /** Notices a deleted topic, which neither client reports (topic-watch.ts). */
  private readonly topicWatch: TopicWatch;
  private redelivery: Redelivery<KafkaEvent> | undefined;
  protected sink!: EventSink;
  private lane: DeliveryLane | undefined;
  protected topics: string[] = [];
  /** What start() is doing, for its error messages. */
  protected step = 'connect';

  constructor(
    protected readonly config: KafkaConfig,
    protected readonly logger: Logger,
    protected readonly metrics: KafkaMetrics,
    audit?: AckAudit,
    /** Left out of what `topicPattern` matches: Sluice's own dead-letter topics (AdapterDeps). */
    private readonly deadLetterTopics?: (topic: string) => boolean,
  ) {
    requireTopics(config);
    this.outage = new Outage(logger, `kafka at ${config.brokers.join(',')}`);
    const book = new PartitionBook(audit);
    this.book = book;
    this.committer = new KafkaCommitter({
      config,
      logger,
      book,
      commits: this.commits,
      send: (offsets) => this.commitOffsets(offsets),
      quiet: (error) => this.mustRejoin(error) || this.lifecycle.state !== 'joined',
      tick: () => this.tick(),
    });
    this.group = new KafkaMembership({
      config,
      logger,
      metrics,
      book,
      lifecycle: this.lifecycle,
      discardQueued: () => this.sink.discard((event) => event instanceof KafkaEvent && event.context.owner === this).length,
      commit: (include) => this.committer.commit(include),
      fatal: (error) => this.sink.fatal(error),
      toSluiceError: (error) => this.toSluiceError(error, this.step),
      afterRevoke: () => {
        this.redelivery?.clear();
        return this.afterRevoke();
      },
    });
    this.topicWatch = new TopicWatch({
      config,
      logger,
      topics: () => this.topics,
      listTopics: () => this.topicLister.list(),
      drop: (gone) => this.readWithout(gone),
      fatal: (error) => this.group.crashed(error, false),
    });
  }

  // --- the client binding ---

  /** Connects, subscribes to {@link topics} (resolved by then) and joins the group; resolves once joined. */
  protected abstract connectAndJoin(): Promise<void>;
  /** An admin client of the binding's library, for the topic listings (see TopicLister). */
  protected abstract openAdmin(): TopicAdmin;
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
  /** Every commitIntervalMs, before the commit (a binding refreshes its high watermarks). */
  protected tick(): void {}

  // --- Source ---

  async start(sink: EventSink): Promise<void> {
    this.lifecycle.begin('joining');
    this.sink = sink;
    this.lane = new DeliveryLane(sink);
    this.redelivery = new Redelivery<KafkaEvent>({
      delayMs: this.config.nackDelayMs,
      wanted: (event) => !this.lifecycle.stopped && event.generation === this.group.generation,
      lane: this.lane,
      // A nacked record stays ahead of the later records of its partition and key (the order a
      // partition promises); the generation makes the tickets comparable.
      keyOrder: {
        own: (event) => (event instanceof KafkaEvent && event.context.owner === this ? event : undefined),
        scope: ({ key, context }) => (key === undefined ? undefined : `${context.generation}:${context.name}\u0000${key}`),
        sequence: (event) => event.ticket,
      },
      failed: (error) => this.logger.error({ error: errorMessage(error) }, 'kafka: redelivery failed'),
    });
    this.metrics.sources.add(this);
    const { startTimeoutMs, group, brokers } = this.config;
    try {
      await within(
        this.prepareAndJoin(),
        startTimeoutMs,
        () => `kafka: could not ${this.step} at brokers ${brokers.join(',')} within ${startTimeoutMs} ms (broker.kafka.startTimeoutMs)`,
      );
    } catch (error) {
      const failure = this.toSluiceError(error, this.step);
      this.lifecycle.crashed(failure.message);
      this.lifecycle.closed = true;
      this.metrics.sources.delete(this);
      await this.disconnect();
      throw failure;
    }
    this.committer.start();
    this.topicWatch.start();
    this.logger.info(
      { group, topics: this.topics, partitions: [...this.group.assignment.keys()] },
      'kafka source joined its consumer group',
    );
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  close(): Promise<void> {
    return this.lifecycle.close();
  }

  health(): Health {
    const group = `kafka group ${this.config.group}`;
    return this.lifecycle.health(group, (state) => {
      if (state !== 'joined') return { connected: false, detail: `${group}: ${state}` };
      const outage = this.outage.describe();
      if (outage) return { connected: false, detail: `${group}: brokers ${outage}` };
      const held = this.group.assignment.size;
      const detail =
        held === 0
          ? `${group}: member with no partitions (more members than partitions)`
          : `${group}: ${held} partition(s) of ${this.topics.join(', ')}`;
      return { connected: true, detail: this.lifecycle.stopped ? `${detail}; stopping` : detail };
    });
  }

  // --- KafkaSourceView (metrics) ---

  connected(): boolean {
    return this.lifecycle.state === 'joined';
  }

  lag(): Iterable<PartitionLag> {
    return this.book.lag((key) => this.group.assignment.has(key));
  }

  // --- KafkaEventOwner ---

  acked(event: KafkaEvent): void {
    if (!this.lifecycle.closed) event.context.progress.complete(event.ticket);
  }

  nacked(event: KafkaEvent): void {
    if (!this.lifecycle.closed && !this.lifecycle.stopped) this.redelivery?.nacked(event);
  }

  // --- for the binding ---

  protected get stopped(): boolean {
    return this.lifecycle.stopped;
  }

  protected get closed(): boolean {
    return this.lifecycle.closed;
  }

  /**
   * Checks the brokers' certificates, resolves the topics to read (the configured list, each must
   * exist, or those matching the pattern; their commit counters start at 0, as Prometheus wants
   * counters to), then has the binding connect and join.
   */
  private async prepareAndJoin(): Promise<void> {
    this.step = 'check the TLS certificates of the brokers';
    await checkBrokerCertificates(this.config);
    this.step = 'connect';
    this.topics = topicsToRead(this.config, await this.topicLister.list(), this.deadLetterTopics);
    for (const topic of this.topics) this.commits.declare(topic);
    if (!this.lifecycle.closed) await this.connectAndJoin();
  }

  /**
   * Delivers `events` of one partition (offset order, unbound: see KafkaEvent) in parts of at most
   * sink.maxBatch, each awaited; a part that is the whole array is delivered as that array.
   * `wanted` is asked when a part's turn in the lane has come; when it says no (or the source
   * stopped, or a revoke began since `epoch`), nothing more is delivered and this resolves to the
   * number delivered (or skipped) so far. Records delivered in this generation or completed before
   * the last revoke (a new stream or a rejoin reads from the committed offset) are skipped
   * (PartitionBook.alreadyDone). Per part: one context, stamp and audit call; per event only its
   * binding and tracker ticket.
   */
  protected async deliver(
    topic: string,
    partition: number,
    events: KafkaEvent[],
    epoch: number,
    options: DeliverOptions = {},
  ): Promise<number> {
    const { wanted, afterPart, waitFor } = options;
    const key = partitionKey(topic, partition);
    const max = Math.max(1, this.sink.maxBatch);
    const going = () => !this.lifecycle.stopped && this.group.current(epoch) && (!wanted || wanted());
    if (!going()) return 0;
    const skipped = this.book.alreadyDone(topic, partition, events);
    if (skipped > 0) {
      this.logger.debug(
        { partition: key, skipped, upTo: String(events[skipped - 1]!.offset) },
        'kafka: skipped records done before the rejoin',
      );
      afterPart?.(events[skipped - 1]!);
    }
    for (let start = skipped; start < events.length; start += max) {
      const end = Math.min(events.length, start + max);
      const build = (): SourceEvent[] | undefined => {
        if (!going()) return undefined;
        const progress = this.book.progress(topic, partition, events[start]!.offset);
        const context: PartitionContext = { owner: this, topic, partition, name: key, progress, generation: this.group.generation };
        const part = start === 0 && end === events.length ? events : events.slice(start, end);
        const first = progress.tracked;
        for (const event of part) event.bind(context, progress.track(event.offset));
        progress.stamp(first, part.length, (i) => part[i]!.timestamp);
        this.book.tracked(topic, partition, part[part.length - 1]!.offset);
        this.book.audited(key, part, 0, part.length);
        // Records of a key with a nacked record waiting are held and delivered after it.
        return this.redelivery!.admit(part);
      };
      const delivering = this.lane!.run(build);
      const delivered = await (waitFor ? waitFor(delivering) : delivering);
      if (!delivered) return start;
      afterPart?.(events[end - 1]!);
    }
    return events.length;
  }

  // --- stop / close ---

  /**
   * A topic matched by `topicPattern` was deleted: the clients are subscribed to a fixed list and
   * would keep failing on it, reading none of the others. Revokes (commits what was acked), then
   * connects and joins again subscribed to the rest.
   */
  private async readWithout(gone: string[]): Promise<void> {
    this.topics = this.topics.filter((topic) => !gone.includes(topic));
    await this.group.rebalancing(`topic ${gone.join(', ')} was deleted`);
    await this.disconnect();
    if (this.lifecycle.stopped || this.lifecycle.closed) return;
    const { startTimeoutMs, brokers } = this.config;
    try {
      this.step = `subscribe again to ${this.topics.join(', ')}`;
      await within(
        this.connectAndJoin(),
        startTimeoutMs,
        () => `kafka: could not ${this.step} at brokers ${brokers.join(',')} within ${startTimeoutMs} ms`,
      );
    } catch (error) {
      // Not group.crashed: a join still awaited would only take the error, and this is fatal.
      const failure = this.toSluiceError(error, this.step);
      this.lifecycle.crashed(failure.message);
      this.logger.error({ error: failure.message }, 'kafka: could not read on without the deleted topic');
      this.sink.fatal(failure);
    }
  }

  private async halt(): Promise<void> {
    this.topicWatch.stop();
    try {
      this.pauseFetching();
    } catch {
      // not running (start failed, or crashed): nothing to pause
    }
    await this.lane?.drained();
    await this.redelivery?.drained();
  }

  private async shutdown(): Promise<void> {
    this.committer.stop();
    if (this.group.revoking) await this.group.revoking;
    if (!this.lifecycle.closed) {
      this.lifecycle.closed = true; // settling is a no-op from here on
      await this.committer.final();
    }
    await this.disconnect();
    this.metrics.sources.delete(this);
  }

  private async disconnect(): Promise<void> {
    await this.topicLister.close();
    const bound = this.config.requestTimeoutMs + this.config.fetch.maxWaitTimeMs;
    await within(this.disconnectClient(), bound, () => `kafka: consumer did not disconnect within ${bound} ms`).catch((error: unknown) =>
      this.logger.warn({ error: errorMessage(error) }, 'kafka consumer disconnect failed'),
    );
  }
}
