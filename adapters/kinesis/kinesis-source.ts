import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { EventSink, Health, PartitionLag, Source } from '../../src/broker/contract.ts';
import { errorMessage } from '../../src/errors.ts';
import { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { CommitLoop, DeliveryLane, Lifecycle, OffsetTracker, Redelivery } from '../../src/source-kit/index.ts';
import { Checkpointer } from './checkpointer.ts';
import type { KinesisClients } from './clients.ts';
import type { KinesisConfig } from './config.ts';
import { SHARD_END, type Lease, type LeaseTable } from './lease.ts';
import { LeaseCoordinator, type LeaseHost } from './lease-coordinator.ts';
import { KinesisEvent, SHARD_KEY_ORDER } from './kinesis-event.ts';
import { KinesisMetrics } from './metrics.ts';
import { ShardConsumer, type ConsumerContext } from './shard-consumer.ts';
import type { FanOutFactory } from './shard-reader.ts';
import { listShards } from './shard-lister.ts';
import { ShardSync } from './shard-sync.ts';
import { bounded, coordinatorOptions, createLeaseTable, createShardReader, describeStream, type ReaderDeps } from './source-setup.ts';

export interface SourceDeps {
  readonly logger: Logger;
  readonly metrics?: KinesisMetrics;
  /** Reader factory for consumer.type efo (fan-out-reader.ts); polling when absent. */
  readonly fanOut?: FanOutFactory;
  /** The ack audit: each checkpoint is written with the records it covers (checkpointer.ts). */
  readonly audit?: AckAudit;
}

/** The source's own states, between the kit's `new` and `closed`. */
type State = 'starting' | 'running' | 'stopped';

/**
 * Reads a Kinesis stream, on the source kit (src/source-kit): the lease coordinator decides which
 * shards this instance reads, a {@link ShardConsumer} per leased shard reads it (polling or
 * enhanced fan-out) and delivers through the kit's one {@link DeliveryLane}; a nacked event comes
 * back through the kit's {@link Redelivery}, keeping its key's order within the shard; the kit's
 * {@link CommitLoop} has the {@link Checkpointer} write processed positions to the leases
 * periodically and on close. A shard that ends is checkpointed SHARD_END and released; its
 * children become eligible only then.
 */
export class KinesisSource implements Source, LeaseHost {
  readonly commits = new CommitCounts();
  private readonly tracker = new OffsetTracker();
  private readonly consumers = new Map<string, ShardConsumer>();
  private readonly table: LeaseTable;
  private readonly coordinator: LeaseCoordinator;
  private readonly checkpointer: Checkpointer;
  private readonly committer: CommitLoop;
  private readonly lifecycle = new Lifecycle<State>('kinesis source', { halt: () => this.halt(), shutdown: () => this.shutdown() });
  private readonly logger: Logger;
  private readonly metrics: KinesisMetrics;
  private readonly readers: ReaderDeps;
  private context: ConsumerContext | undefined;
  private fatalReported = false;
  /** start() failed: close() has nothing left to checkpoint or release. */
  private startFailed = false;

  constructor(
    private readonly config: KinesisConfig,
    private readonly clients: KinesisClients,
    private readonly deps: SourceDeps,
    private readonly ownsClients = true,
  ) {
    this.logger = deps.logger;
    this.metrics = deps.metrics ?? KinesisMetrics.unregistered(config.stream);
    this.table = createLeaseTable(config, clients);
    const timestamp = config.startTimestamp;
    this.readers = {
      config,
      clients,
      fanOut: deps.fanOut,
      startTimestamp: timestamp === undefined ? undefined : new Date(timestamp),
      logger: this.logger,
      metrics: this.metrics,
    };
    const sync = new ShardSync(clients.kinesis, this.table, config.stream, config.startFrom, this.logger, this.metrics);
    this.coordinator = new LeaseCoordinator(this.table, sync, coordinatorOptions(config), this, this.logger, this.metrics);
    this.checkpointer = new Checkpointer(this.coordinator, (consumer) => this.lostConsumer(consumer), this.logger, this.commits);
    this.committer = new CommitLoop({
      intervalMs: config.checkpointIntervalMs,
      // Every held shard (or those `include` names); only shards that moved are written.
      commit: async (include) => {
        const consumers = [...this.consumers.values()].filter((consumer) => !include || include(consumer.shardId));
        await Promise.all(consumers.map((consumer) => this.checkpointer.flush(consumer)));
      },
      // Not expected: a failed write is logged, counted and kept for the next flush (checkpointer.ts).
      failed: (error) => this.logger.warn({ error: errorMessage(error) }, 'kinesis: checkpointing failed'),
    });
    this.commits.declare(config.stream);
  }

  get workerId(): string {
    return this.coordinator.workerId;
  }

  /** The shards whose lease this instance holds. */
  get ownedShards(): string[] {
    return this.coordinator.heldShards();
  }

  async start(sink: EventSink): Promise<void> {
    this.lifecycle.begin('starting');
    const lane = new DeliveryLane(sink);
    const redelivery = new Redelivery<KinesisEvent>({
      delayMs: this.config.nackDelayMs,
      // Events of a shard no longer read here (lease lost, source stopped) are dropped: the
      // shard's next reader delivers them again from the checkpoint.
      wanted: (event) => !this.lifecycle.stopped && event.consumer.reading,
      lane,
      // A nacked record stays ahead of the later records of its shard and key (kinesis-event.ts).
      keyOrder: SHARD_KEY_ORDER,
      failed: (error) => this.logger.error({ error: errorMessage(error) }, 'kinesis: redelivery failed'),
    });
    this.context = {
      stream: this.config.stream,
      lane,
      maxRecords: this.config.consumer.maxRecords,
      deaggregate: this.config.consumer.deaggregate,
      logger: this.logger,
      metrics: this.metrics,
      audit: this.deps.audit,
      nacked: (event) => {
        if (!this.lifecycle.stopped) redelivery.nacked(event);
      },
      admit: (events) => redelivery.admit(events),
      shardEnded: (consumer, children) => this.shardEnded(consumer, children),
      consumerFailed: (consumer) => void this.giveUp(consumer),
    };
    const timeoutMs = this.config.connectTimeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      await bounded(deadline, timeoutMs, async () => {
        await describeStream(this.clients, this.config.stream, deadline);
        await this.table.initialize(deadline);
        await this.deps.fanOut?.prepare(deadline);
        await this.coordinator.start(deadline);
      });
    } catch (error) {
      this.startFailed = true;
      this.lifecycle.to('stopped');
      await this.coordinator.stop();
      await this.closeClients();
      this.lifecycle.state = 'closed';
      this.lifecycle.closed = true;
      throw error;
    }
    this.committer.start();
    if (this.lifecycle.state === 'starting') this.lifecycle.to('running');
    this.logger.info(
      {
        stream: this.config.stream,
        worker: this.workerId,
        leases: this.table.description,
        consumer: this.config.consumer.type,
        shards: this.coordinator.heldShards(),
      },
      'kinesis source started',
    );
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  close(): Promise<void> {
    return this.lifecycle.close();
  }

  health(): Health {
    return this.lifecycle.health('kinesis source', (state) => {
      if (state !== 'running') return { connected: false, detail: state };
      const healthy = this.coordinator.healthy;
      const detail = `kinesis stream ${this.config.stream}: ${this.coordinator.heldCount} shard(s) leased by ${this.workerId}`;
      return {
        connected: healthy,
        detail: healthy ? detail : `${detail}; lease table not answering: ${this.coordinator.lastError ?? 'unknown error'}`,
      };
    });
  }

  /** Per shard this instance reads: see {@link ShardConsumer.lag}. */
  *lag(): Iterable<PartitionLag> {
    for (const consumer of this.consumers.values()) yield consumer.lag();
  }

  /** @internal LeaseHost: start reading a newly held shard. */
  acquired(lease: Lease): void {
    const context = this.context;
    if (!context || this.lifecycle.stopped || this.lifecycle.state === 'closed') {
      void this.coordinator.release(lease.leaseKey);
      return;
    }
    const stale = this.consumers.get(lease.leaseKey);
    if (stale) {
      stale.released = true;
      this.forget(stale);
      void stale.stop();
    }
    this.tracker.remove(lease.leaseKey);
    const progress = this.tracker.partition(lease.leaseKey);
    const [onFatal, from] = [(error: Error) => this.fatal(error), this.checkpointer.resumeFrom(lease)];
    const reader = (signal: AbortSignal) => createShardReader(this.readers, lease.leaseKey, from, signal, onFatal);
    const consumer = new ShardConsumer(lease.leaseKey, progress, reader, context);
    this.consumers.set(lease.leaseKey, consumer);
    consumer.start();
  }

  /** @internal LeaseHost: another instance holds the shard now. Stop at once, try a last checkpoint. */
  lost(shardId: string): void {
    this.commits.fail(this.config.stream); // its progress since the last checkpoint will be read again
    const consumer = this.consumers.get(shardId);
    if (consumer) this.lostConsumer(consumer);
  }

  /** A checkpoint found the lease gone: stop that consumer (not a newer one of the same shard). */
  private lostConsumer(consumer: ShardConsumer): void {
    if (this.consumers.get(consumer.shardId) !== consumer) return;
    this.checkpointer.capture(consumer);
    consumer.released = true;
    this.forget(consumer);
    this.discardQueued(consumer);
    void consumer.stop();
    // Conditional on ownership: succeeds only if nobody took the lease yet.
    void this.checkpointer.flush(consumer);
  }

  /** A failure retrying cannot fix: Sluice stops and exits non-zero (once), so a supervisor restarts it. */
  private fatal(error: Error): void {
    if (this.fatalReported || this.lifecycle.stopped) return;
    this.fatalReported = true;
    this.logger.error({ error: errorMessage(error) }, 'kinesis: giving up');
    this.context?.lane.sink.fatal(error);
  }

  /** Takes back events of a shard we no longer hold that no worker started: the next owner delivers them. */
  private discardQueued(consumer: ShardConsumer): void {
    this.context?.lane.sink.discard((event) => event instanceof KinesisEvent && event.consumer === consumer);
  }

  private forget(consumer: ShardConsumer): void {
    if (this.consumers.get(consumer.shardId) === consumer) this.consumers.delete(consumer.shardId);
    if (this.tracker.has(consumer.shardId) && this.tracker.partition(consumer.shardId) === consumer.progress)
      this.tracker.remove(consumer.shardId);
    this.metrics.shardReleased(consumer.shardId);
  }

  private async shardEnded(consumer: ShardConsumer, reportedChildren: readonly string[]): Promise<void> {
    // GetRecords names the children at the end on AWS; emulators may not: ask ListShards.
    const childShardIds = reportedChildren.length > 0 ? reportedChildren : await this.childrenOf(consumer.shardId);
    const outcome = await this.checkpointer.flush(consumer, SHARD_END, childShardIds);
    if (outcome !== 'written') {
      // Lost, or the write failed: the next owner (maybe us) reads the end again and retries.
      // Not awaited: giving up waits for the consumer's loop, which is waiting for this call.
      if (outcome === 'failed') void this.giveUp(consumer);
      return;
    }
    consumer.released = true;
    this.forget(consumer);
    this.logger.info({ shard: consumer.shardId, children: childShardIds }, 'kinesis: shard finished (SHARD_END)');
    await this.coordinator.release(consumer.shardId);
    this.coordinator.requestSync();
  }

  private async childrenOf(shardId: string): Promise<string[]> {
    try {
      const shards = await listShards(this.clients.kinesis, this.config.stream, { metrics: this.metrics });
      return shards.filter((shard) => shard.parentShardIds.includes(shardId)).map((shard) => shard.shardId);
    } catch {
      return []; // informational only
    }
  }

  /** Releases a shard whose consumer cannot go on, so that it is read again from its checkpoint. */
  private async giveUp(consumer: ShardConsumer): Promise<void> {
    this.checkpointer.capture(consumer);
    consumer.released = true;
    this.forget(consumer);
    this.discardQueued(consumer);
    await consumer.stop();
    await this.checkpointer.flush(consumer);
    await this.coordinator.release(consumer.shardId);
  }

  /**
   * stop(): stops every shard's reading; each reader's pending delivery resolves at once (its
   * signal aborted). The lane is not awaited: a delivery the full queue holds ends when the
   * pipeline drains the queue, after stop() returned.
   */
  private async halt(): Promise<void> {
    await Promise.all([...this.consumers.values()].map((consumer) => consumer.stop()));
    if (this.lifecycle.state === 'starting' || this.lifecycle.state === 'running') this.lifecycle.to('stopped');
  }

  /** close(), after halt: final checkpoints (conditional on the leases), release, disconnect. */
  private async shutdown(): Promise<void> {
    if (this.startFailed) return;
    this.committer.stop();
    await this.coordinator.stop();
    const consumers = [...this.consumers.values()];
    for (const consumer of consumers) {
      this.checkpointer.capture(consumer);
      consumer.released = true;
    }
    // After any periodic commit still running; each shard's writes stay in order (checkpointer.ts).
    await this.committer.finish().catch(() => undefined);
    await Promise.all(
      consumers.map(async (consumer) => {
        if (this.coordinator.holds(consumer.shardId)) await this.coordinator.release(consumer.shardId);
        this.forget(consumer);
      }),
    );
    await this.deps.fanOut?.close();
    await this.table.close();
    await this.closeClients();
    this.logger.info({ stream: this.config.stream, worker: this.workerId }, 'kinesis source closed');
  }

  private async closeClients(): Promise<void> {
    if (!this.ownsClients) return;
    this.clients.kinesis.destroy();
    this.clients.fanOut?.destroy();
    this.clients.dynamo?.destroy();
  }
}
