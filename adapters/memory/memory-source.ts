import type { AckAudit, AuditedCommit } from '../../src/audit/ack-audit.ts';
import { type DeliveredLedger, ledgerOf } from '../../src/audit/delivered-ledger.ts';
import type { EventSink, Health, PartitionLag, Position, Source, SourceEvent } from '../../src/broker/contract.ts';
import {
  BaseEvent,
  CommitLoop,
  type EventOwner,
  Lifecycle,
  OffsetTracker,
  type PartitionProgress,
  Redelivery,
} from '../../src/source-kit/index.ts';
import { Notifier } from '../../src/util/notifier.ts';
import { LoadGenerator } from '../../src/broker/load-generator.ts';
import { CommitCounts } from '../../src/metrics/source-metrics.ts';
import type { MemoryConfig } from './config.ts';
import { MemoryPublisher } from './memory-publisher.ts';
import { partitionId, type MemoryBroker, type MemoryPartition, type MemoryRecord } from './memory-broker.ts';

/** The longest the source delivers without letting the event loop turn (see MemorySource.run). */
const YIELD_EVERY_MS = 5;

/** One delivery of a memory record. Cheap on purpose: id and position are built only if read. */
class MemoryEvent extends BaseEvent<MemoryEvent> implements SourceEvent {
  readonly key: string | undefined;
  readonly payload: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;

  constructor(
    private readonly reader: MemorySource,
    readonly record: MemoryRecord,
    readonly partition: MemoryPartition,
    readonly progress: PartitionProgress,
    readonly ticket: number,
    attempt: number,
  ) {
    super(attempt);
    this.key = record.key;
    this.payload = record.payload;
    this.headers = record.headers;
    this.timestamp = record.timestamp;
  }

  get owner(): MemorySource {
    return this.reader;
  }

  get id(): string {
    return `${partitionId(this.partition)}@${this.record.offset}`;
  }

  get source(): string {
    return this.partition.topic.name;
  }

  get position(): Position {
    return { partition: partitionId(this.partition), offset: String(this.record.offset) };
  }

  redelivery(): MemoryEvent {
    return new MemoryEvent(this.reader, this.record, this.partition, this.progress, this.ticket, this.attempt + 1);
  }
}

type SourceOptions = Pick<MemoryConfig, 'topic' | 'partitions' | 'group' | 'startFrom' | 'nackDelayMs' | 'commitIntervalMs'> & {
  load?: MemoryConfig['load'];
};

/**
 * Reads a memory topic for one consumer group: every partition, in offset order, in batches of
 * at most the sink's maxBatch, awaiting each delivery (backpressure). Acked offsets are committed
 * to the group up to the highest contiguous one; a nacked event is delivered again after
 * `nackDelayMs` with the same ticket, so the commit cannot pass it meanwhile.
 *
 * With `load.enabled`, the source also runs the synthetic load generator into its own topic,
 * so the embedded default has something to process.
 */
export class MemorySource implements Source, EventOwner<MemoryEvent> {
  readonly commits = new CommitCounts();
  private readonly member = Symbol('memory-source');
  private readonly tracker = new OffsetTracker();
  private readonly cursors = new Map<MemoryPartition, number>();
  /** Where reading started, per partition: the committed position until the first commit. */
  private readonly startPositions = new Map<MemoryPartition, number>();
  private readonly wake = new Notifier();
  private readonly abort = new AbortController();
  private redelivery!: Redelivery<MemoryEvent>;
  private readonly committer: CommitLoop;
  private readonly lifecycle = new Lifecycle<'running'>('memory source', { halt: () => this.halt(), shutdown: () => this.shutdown() });
  private loop: Promise<void> | undefined;
  private generator: LoadGenerator | undefined;
  /** With the ack audit on: per partition, what was delivered and no commit covered yet. */
  private readonly delivered = new Map<string, DeliveredLedger>();

  constructor(
    private readonly broker: MemoryBroker,
    private readonly options: SourceOptions,
    private readonly audit?: AckAudit,
  ) {
    this.committer = new CommitLoop({ intervalMs: options.commitIntervalMs, commit: () => this.commit(), failed: () => undefined });
  }

  async start(sink: EventSink): Promise<void> {
    this.lifecycle.begin('running');
    this.redelivery = new Redelivery<MemoryEvent>({
      delayMs: this.options.nackDelayMs,
      wanted: () => true,
      ready: () => this.wake.notify(),
      // A nacked event stays ahead of the later events of its partition and key.
      keyOrder: {
        own: (event) => (event instanceof MemoryEvent && event.owner === this ? event : undefined),
        scope: (event) => (event.key === undefined ? undefined : `${event.progress.partition}\u0000${event.key}`),
        sequence: (event) => event.ticket,
      },
      sink,
    });
    const topic = this.broker.createTopic(this.options.topic, this.options.partitions);
    this.broker.join(this.options.group, this.member);
    for (const partition of topic.partitions) {
      const committed = this.broker.committed(this.options.group, partition);
      this.cursors.set(partition, committed ?? (this.options.startFrom === 'earliest' ? partition.start : partition.end));
      this.startPositions.set(partition, this.cursors.get(partition)!);
    }
    this.commits.declare(this.options.topic);
    this.committer.start();
    this.loop = this.run(sink, topic.appended);
    const load = this.options.load;
    if (load?.enabled) {
      this.generator = new LoadGenerator(new MemoryPublisher(this.broker, this.options.partitions), {
        destination: this.options.topic,
        ...load,
      });
      this.generator.start();
    }
  }

  stop(): Promise<void> {
    return this.lifecycle.stop();
  }

  close(): Promise<void> {
    return this.lifecycle.close();
  }

  private async halt(): Promise<void> {
    // Not awaited: a generator waiting for backlog room would wait for commits that this stop ends.
    void this.generator?.stop();
    this.abort.abort();
    this.wake.notify();
    await this.loop;
  }

  private async shutdown(): Promise<void> {
    await this.committer.finish();
    this.broker.leave(this.options.group, this.member);
  }

  health(): Health {
    const detail = `memory topic ${this.options.topic}, group ${this.options.group}`;
    return this.lifecycle.health(detail, (state) => ({ connected: state === 'running', detail }));
  }

  /**
   * Per partition: records appended and not committed by the group (read or not), and the
   * timestamp of the oldest record not yet acked: the first pending one, or the next unread one.
   */
  *lag(): Iterable<PartitionLag> {
    if (this.lifecycle.closed) return;
    for (const [partition, cursor] of this.cursors) {
      const name = partitionId(partition);
      const committed = this.broker.committed(this.options.group, partition) ?? this.startPositions.get(partition)!;
      const pending = this.tracker.has(name) ? this.tracker.partition(name).oldestPendingTimestamp : undefined;
      const unread = cursor < partition.end ? partition.records[cursor - partition.start]?.timestamp : undefined;
      yield {
        source: this.options.topic,
        partition: name,
        events: Math.max(0, partition.end - committed),
        oldestMs: pending === undefined ? unread : unread === undefined ? pending : Math.min(pending, unread),
      };
    }
  }

  /** @internal called by MemoryEvent.ack */
  acked(event: MemoryEvent): void {
    if (!this.lifecycle.closed) event.progress.complete(event.ticket);
  }

  /** @internal called by MemoryEvent.nack: delivered again after nackDelayMs, same ticket. */
  nacked(event: MemoryEvent): void {
    if (!this.lifecycle.closed) this.redelivery.nacked(event);
  }

  private async run(sink: EventSink, appended: Notifier): Promise<void> {
    const signal = this.abort.signal;
    const partitions = [...this.cursors.keys()];
    let yielded = performance.now();
    while (!signal.aborted) {
      // A broker's source waits on I/O between fetches, and timers, sockets and worker threads get
      // their turn then. This one reads memory: draining a backlog through a synchronous handler
      // resolves only promises, and the event loop would run nothing else until the backlog is
      // gone (no commit timer, no /metrics or /health answer, no span export acknowledged). So it
      // lets the event loop turn at least every YIELD_EVERY_MS (one setImmediate: a few µs).
      if (performance.now() - yielded >= YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        yielded = performance.now();
      }
      // Wait on the notifiers before reading, so an append during the read is not missed.
      const woken = Promise.race([appended.wait(), this.wake.wait()]);
      let delivered = false;
      if (this.redelivery.size > 0) {
        await sink.deliver(this.redelivery.take(sink.maxBatch));
        delivered = true;
      }
      for (const partition of partitions) {
        if (signal.aborted) break;
        const cursor = this.cursors.get(partition)!;
        const records = partition.read(cursor, sink.maxBatch);
        if (records.length === 0) continue;
        const progress = this.tracker.partition(partitionId(partition));
        const events = new Array<SourceEvent>(records.length);
        for (let i = 0; i < records.length; i++) {
          const record = records[i]!;
          events[i] = new MemoryEvent(this, record, partition, progress, progress.track(String(record.offset)), 1);
        }
        progress.stamp((events[0] as MemoryEvent).ticket, records.length, (i) => records[i]!.timestamp);
        if (this.audit) this.record(partitionId(partition), records);
        this.cursors.set(partition, records[records.length - 1]!.offset + 1);
        // Events of a key with a nacked event waiting are held and come after it.
        const now = this.redelivery.admit(events);
        if (now.length > 0) await sink.deliver(now);
        delivered = true;
      }
      if (!delivered && !signal.aborted) await woken;
    }
  }

  /** Writes each partition's next offset to read: one past the highest contiguous acked one. */
  private commit(): void {
    const commits: { partition: MemoryPartition; next: number }[] = [];
    for (const progress of this.tracker.all()) {
      const offset = progress.takeCommittable();
      if (offset === undefined) continue;
      const partition = this.partitionByName(progress.partition);
      if (partition) commits.push({ partition, next: Number(offset) + 1 });
    }
    if (this.audit && commits.length > 0) this.audit.committed(commits.map(({ partition, next }) => this.audited(partition, next)));
    for (const { partition, next } of commits) {
      this.broker.commit(this.options.group, partition, next);
      this.commits.commit(this.options.topic);
    }
  }

  private record(name: string, records: readonly MemoryRecord[]): void {
    const ledger = ledgerOf(this.delivered, name);
    for (const record of records) ledger.record(String(record.offset), `${name}@${record.offset}`);
  }

  /** The commit of `next` (the next offset to read) with the delivered events below it. */
  private audited(partition: MemoryPartition, next: number): AuditedCommit {
    const name = partitionId(partition);
    return { partition: name, position: String(next), ids: this.delivered.get(name)?.take(String(next), false) ?? [] };
  }

  private partitionByName(name: string): MemoryPartition | undefined {
    for (const partition of this.cursors.keys()) if (partitionId(partition) === name) return partition;
    return undefined;
  }
}
