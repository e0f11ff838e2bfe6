import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { EventSink, Health, PartitionLag, Source } from '../../src/broker/contract.ts';
import { OffsetTracker } from '../../src/source-kit/offset-tracker.ts';
import { ConnectionError, SluiceError, errorMessage } from '../../src/errors.ts';
import { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { toSluiceError } from './aws-errors.ts';
import { Checkpointer } from './checkpointer.ts';
import type { KinesisClients } from './clients.ts';
import type { KinesisConfig } from './config.ts';
import { DeliveryGate } from './delivery-gate.ts';
import { FileLeaseTable } from './file-lease-table.ts';
import { SHARD_END, type Lease, type LeaseTable } from './lease.ts';
import { LeaseCoordinator, type LeaseHost } from './lease-coordinator.ts';
import { DynamoLeaseTable } from './lease-table.ts';
import { KinesisEvent } from './kinesis-event.ts';
import { KinesisMetrics } from './metrics.ts';
import { ShardConsumer, type ConsumerContext } from './shard-consumer.ts';
import { type FanOutFactory, PollingShardReader } from './shard-reader.ts';
import { listShards } from './shard-lister.ts';
import { ShardSync } from './shard-sync.ts';

export interface SourceDeps {
  readonly logger: Logger;
  readonly metrics?: KinesisMetrics;
  /** Reader factory for consumer.type efo (fan-out-reader.ts); polling when absent. */
  readonly fanOut?: FanOutFactory;
  /** The ack audit: each checkpoint is written with the records it covers (checkpointer.ts). */
  readonly audit?: AckAudit;
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'closed';

/**
 * Reads a Kinesis stream: the lease coordinator decides which shards this instance reads, a
 * {@link ShardConsumer} per leased shard reads it (polling or enhanced fan-out) and delivers
 * through one {@link DeliveryGate}, the {@link Checkpointer} writes processed positions to the
 * leases. A shard that ends is checkpointed SHARD_END and released; its children become
 * eligible only then.
 */
export class KinesisSource implements Source, LeaseHost {
  readonly commits = new CommitCounts();
  private readonly tracker = new OffsetTracker();
  private readonly consumers = new Map<string, ShardConsumer>();
  private readonly table: LeaseTable;
  private readonly coordinator: LeaseCoordinator;
  private readonly checkpointer: Checkpointer;
  private readonly logger: Logger;
  private readonly metrics: KinesisMetrics;
  private readonly startTimestamp: Date | undefined;
  private readonly stopSignal = new AbortController();
  private context: ConsumerContext | undefined;
  private redeliveries: KinesisEvent[] = [];
  private flushingRedeliveries = false;
  private fatalReported = false;
  private state: State = 'new';
  private stopping: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly config: KinesisConfig,
    private readonly clients: KinesisClients,
    private readonly deps: SourceDeps,
    private readonly ownsClients = true,
  ) {
    this.logger = deps.logger;
    this.metrics = deps.metrics ?? KinesisMetrics.unregistered(config.stream);
    const leases = config.leases;
    if (leases.type === 'dynamodb') {
      if (!clients.dynamo) throw new SluiceError('kinesis: leases.type dynamodb needs a DynamoDB client');
      this.table = new DynamoLeaseTable(clients.dynamo, leases.table ?? config.application, leases.createTable);
    } else {
      this.table = new FileLeaseTable(leases.path, config.stream);
    }
    const timestamp = config.startTimestamp;
    this.startTimestamp = timestamp === undefined ? undefined : new Date(timestamp);
    const sync = new ShardSync(clients.kinesis, this.table, config.stream, config.startFrom, this.logger, this.metrics);
    this.coordinator = new LeaseCoordinator(
      this.table,
      sync,
      {
        workerId: leases.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
        durationMs: leases.durationMs,
        renewIntervalMs: leases.renewIntervalMs ?? Math.floor(leases.durationMs / 3),
        takeIntervalMs: leases.takeIntervalMs ?? leases.durationMs,
        shardSyncIntervalMs: leases.shardSyncIntervalMs,
      },
      this,
      this.logger,
      this.metrics,
    );
    this.checkpointer = new Checkpointer(
      this.coordinator,
      config.checkpointIntervalMs,
      (consumer) => this.lostConsumer(consumer),
      this.logger,
      this.commits,
    );
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
    if (this.state !== 'new') throw new SluiceError(`kinesis source already ${this.state}`);
    this.state = 'starting';
    this.context = {
      stream: this.config.stream,
      gate: new DeliveryGate(sink),
      maxRecords: this.config.consumer.maxRecords,
      deaggregate: this.config.consumer.deaggregate,
      logger: this.logger,
      metrics: this.metrics,
      audit: this.deps.audit,
      redeliver: (event) => this.redeliver(event),
      shardEnded: (consumer, children) => this.shardEnded(consumer, children),
      consumerFailed: (consumer) => void this.giveUp(consumer),
    };
    const timeoutMs = this.config.connectTimeoutMs;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      await bounded(deadline, timeoutMs, async () => {
        await this.describeStream(deadline);
        await this.table.initialize(deadline);
        await this.deps.fanOut?.prepare(deadline);
        await this.coordinator.start(deadline);
      });
    } catch (error) {
      this.state = 'stopped';
      await this.coordinator.stop();
      await this.closeClients();
      this.state = 'closed';
      throw error;
    }
    this.checkpointer.start(() => this.consumers.values());
    this.state = 'running';
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
    this.stopping ??= (async () => {
      if (this.state === 'starting' || this.state === 'running') this.state = 'stopping';
      this.stopSignal.abort();
      await Promise.all([...this.consumers.values()].map((consumer) => consumer.stop()));
      if (this.state === 'stopping') this.state = 'stopped';
    })();
    return this.stopping;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.stop();
      if (this.state === 'closed') return;
      this.state = 'closed';
      this.checkpointer.stop();
      await this.coordinator.stop();
      const consumers = [...this.consumers.values()];
      for (const consumer of consumers) {
        this.checkpointer.capture(consumer);
        consumer.released = true;
      }
      await Promise.all(
        consumers.map(async (consumer) => {
          await this.checkpointer.flush(consumer);
          if (this.coordinator.holds(consumer.shardId)) await this.coordinator.release(consumer.shardId);
          this.forget(consumer);
        }),
      );
      await this.deps.fanOut?.close();
      await this.table.close();
      await this.closeClients();
      this.logger.info({ stream: this.config.stream, worker: this.workerId }, 'kinesis source closed');
    })();
    return this.closing;
  }

  health(): Health {
    if (this.state === 'closed') return { connected: false, detail: 'closed' };
    if (this.state !== 'running' && this.state !== 'stopping') return { connected: false, detail: this.state };
    const healthy = this.coordinator.healthy;
    const detail = `kinesis stream ${this.config.stream}: ${this.coordinator.heldCount} shard(s) leased by ${this.workerId}`;
    return {
      connected: healthy,
      detail: healthy ? detail : `${detail}; lease table not answering: ${this.coordinator.lastError ?? 'unknown error'}`,
    };
  }

  /** Per shard this instance reads: see {@link ShardConsumer.lag}. */
  *lag(): Iterable<PartitionLag> {
    for (const consumer of this.consumers.values()) yield consumer.lag();
  }

  /** @internal LeaseHost: start reading a newly held shard. */
  acquired(lease: Lease): void {
    const context = this.context;
    if (!context || this.stopSignal.signal.aborted || this.state === 'closed') {
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
    const consumer = new ShardConsumer(
      lease.leaseKey,
      progress,
      (signal) =>
        this.deps.fanOut?.reader(lease.leaseKey, from, signal, onFatal) ??
        new PollingShardReader(
          this.clients.kinesis,
          this.config.stream,
          lease.leaseKey,
          from,
          {
            pollIntervalMs: this.config.consumer.pollIntervalMs,
            throttleBackoffMs: this.config.consumer.throttleBackoffMs,
            startTimestamp: this.startTimestamp,
            fatalAfterMs: this.config.consumer.fatalAfterMs,
            onFatal,
          },
          signal,
          this.logger,
          this.metrics,
        ),
      context,
    );
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
    if (this.fatalReported || this.stopSignal.signal.aborted) return;
    this.fatalReported = true;
    this.logger.error({ error: errorMessage(error) }, 'kinesis: giving up');
    this.context?.gate.sink.fatal(error);
  }

  /** Takes back events of a shard we no longer hold that no worker started: the next owner delivers them. */
  private discardQueued(consumer: ShardConsumer): void {
    this.context?.gate.sink.discard((event) => event instanceof KinesisEvent && event.consumer === consumer);
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

  private redeliver(event: KinesisEvent): void {
    const timer = setTimeout(() => {
      this.redeliveries.push(event);
      void this.flushRedeliveries();
    }, this.config.nackDelayMs);
    timer.unref();
  }

  private async flushRedeliveries(): Promise<void> {
    if (this.flushingRedeliveries || !this.context) return;
    this.flushingRedeliveries = true;
    try {
      const gate = this.context.gate;
      while (this.redeliveries.length > 0 && !this.stopSignal.signal.aborted) {
        // Events of a shard we no longer hold are dropped: the next owner delivers them.
        const batch = this.redeliveries
          .splice(0, gate.sink.maxBatch)
          .filter((event) => !event.consumer.released && !event.consumer.signal.aborted);
        if (batch.length > 0 && !(await gate.deliver(batch, this.stopSignal.signal))) break;
      }
    } finally {
      this.flushingRedeliveries = false;
    }
  }

  private async describeStream(signal: AbortSignal): Promise<void> {
    try {
      const result = await this.clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: this.config.stream }), {
        abortSignal: signal,
      });
      const status = result.StreamDescriptionSummary?.StreamStatus;
      if (status === 'DELETING') throw new SluiceError(`kinesis stream ${this.config.stream} is being deleted`);
    } catch (error) {
      throw toSluiceError(error, `kinesis stream ${this.config.stream}`);
    }
  }

  private async closeClients(): Promise<void> {
    if (!this.ownsClients) return;
    this.clients.kinesis.destroy();
    this.clients.fanOut?.destroy();
    this.clients.dynamo?.destroy();
  }
}

/** Runs `work`, failing with a clear ConnectionError if `signal` (the start-up bound) fires first. */
async function bounded<T>(signal: AbortSignal, ms: number, work: () => Promise<T>): Promise<T> {
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ConnectionError(`kinesis: start-up did not finish within ${ms} ms (connectTimeoutMs)`));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work(), timeout]);
  } catch (error) {
    if (signal.aborted && !(error instanceof SluiceError && error.message.includes('connectTimeoutMs'))) {
      throw new ConnectionError(`kinesis: start-up did not finish within ${ms} ms (connectTimeoutMs): ${errorMessage(error)}`, error);
    }
    throw error;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
