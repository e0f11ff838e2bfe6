import type { AckAudit } from '../../src/audit/ack-audit.ts';
import { type DeliveredLedger, ledgerOf } from '../../src/audit/delivered-ledger.ts';
import type { PartitionLag } from '../../src/broker/contract.ts';
import { OffsetTracker, type PartitionProgress } from '../../src/source-kit/offset-tracker.ts';
import { partitionKey } from './client.ts';
import { kafkaPartitionLag } from './kafka-lag.ts';

export type TopicPartition = { topic: string; partition: number };
/** `offset` is the next offset to read, as Kafka commits it. */
export type OffsetToCommit = TopicPartition & { offset: string };

/**
 * What a Kafka source knows about the partitions it reads, whatever its client: the offset
 * tracker (contiguous acked positions), what was committed, the high watermarks, and from them
 * the offsets to commit and the lag. Keyed by `topic/partition`.
 */
export class PartitionBook {
  private readonly tracker = new OffsetTracker();
  private readonly partitions = new Map<string, TopicPartition>();
  /** Next offset to read as last committed, per partition. */
  private readonly committed = new Map<string, string>();
  /** First offset delivered since the last reset, per partition: the position before any ack. */
  private readonly basePositions = new Map<string, string>();
  /** End of each partition as the client last reported it. */
  private readonly highWatermarks = new Map<string, string>();
  /**
   * Next offset per partition as this member had completed it when the tracker was last reset
   * (a revoke: a rebalance, a rejoin after a broker outage), kept across the reset. Whether or not
   * the revoke's commit got through (during an outage it cannot), the client fetches again from
   * the group's committed offset: records below this position were processed already and are
   * skipped ({@link alreadyDone}), and the position is committed again ({@link toCommit}).
   */
  private readonly carried = new Map<string, bigint>();
  /** Partitions whose carried position is ahead of where the client fetches: it is committed. */
  private readonly carriedAhead = new Set<string>();
  /** Highest offset delivered per partition since the last reset. */
  private readonly lastTracked = new Map<string, bigint>();
  /** With the ack audit on: per partition, what was delivered and no commit covered yet. */
  private readonly delivered = new Map<string, DeliveredLedger>();

  constructor(private readonly audit?: AckAudit) {}

  /** The progress of a partition whose events are about to be delivered, from `firstOffset` on. */
  progress(topic: string, partition: number, firstOffset: string | bigint): PartitionProgress {
    const key = partitionKey(topic, partition);
    if (!this.partitions.has(key)) this.partitions.set(key, { topic, partition });
    if (!this.basePositions.has(key)) this.basePositions.set(key, String(firstOffset));
    return this.tracker.partition(key);
  }

  /** With the audit on: records records[from..to) of partition `key` as delivered. */
  audited(key: string, records: readonly { offset: string | bigint }[], from: number, to: number): void {
    if (!this.audit) return;
    const ledger = ledgerOf(this.delivered, key);
    for (let i = from; i < to; i++) ledger.record(String(records[i]!.offset), `${key}@${records[i]!.offset}`);
  }

  /**
   * With the audit on: writes the commits about to be sent, each with the delivered offsets it
   * moves past (Kafka commits the next offset to read: everything below it). Called right before
   * the commit request goes out, with what it sends.
   */
  auditCommit(offsets: readonly OffsetToCommit[]): void {
    if (!this.audit) return;
    this.audit.committed(
      offsets.map(({ topic, partition, offset }) => {
        const key = partitionKey(topic, partition);
        return { partition: key, position: offset, ids: this.delivered.get(key)?.take(offset, false) ?? [] };
      }),
    );
  }

  setHighWatermark(topic: string, partition: number, offset: string): void {
    this.highWatermarks.set(partitionKey(topic, partition), offset);
  }

  /** Records offsets the group confirmed. */
  committedAt(offsets: readonly OffsetToCommit[]): void {
    for (const { topic, partition, offset } of offsets) {
      const key = partitionKey(topic, partition);
      this.committed.set(key, offset);
      const carried = this.carried.get(key);
      if (carried !== undefined && BigInt(offset) >= carried) this.dropCarried(key);
    }
  }

  /**
   * How many of `records` (the next records fetched for a partition, in offset order) this member
   * has already: delivered in this generation (a client that opened a new fetch stream reads from
   * the committed offset again), or completed before the last reset. The caller skips them
   * instead of processing them again. After a join a client fetches from the group's committed
   * offset; a first record at or past the carried position means the group is there already (or
   * another member moved it on), and the carried position is dropped. Skipping is safe whoever
   * held the partition meanwhile: only records this member tracks or completed are skipped.
   */
  alreadyDone(topic: string, partition: number, records: readonly { offset: string | bigint }[]): number {
    if (records.length === 0) return 0;
    const key = partitionKey(topic, partition);
    const first = BigInt(records[0]!.offset);
    let limit = -1n;
    const carried = this.carried.get(key);
    if (carried !== undefined && first >= carried) this.dropCarried(key);
    else if (carried !== undefined) {
      if (!this.partitions.has(key)) this.partitions.set(key, { topic, partition });
      this.carriedAhead.add(key); // the group's position is behind: commit it (toCommit)
      limit = carried;
    }
    const tracked = this.lastTracked.get(key);
    if (tracked !== undefined && tracked >= limit) limit = tracked + 1n;
    let skip = 0;
    while (skip < records.length && BigInt(records[skip]!.offset) < limit) skip++;
    return skip;
  }

  /** `offset` was delivered (tracked) in this generation: a fetch that returns it again skips it. */
  tracked(topic: string, partition: number, offset: string | bigint): void {
    const key = partitionKey(topic, partition);
    const value = BigInt(offset);
    if ((this.lastTracked.get(key) ?? -1n) < value) this.lastTracked.set(key, value);
  }

  /** Each partition's next offset (one past the highest contiguous acked) not committed yet. */
  toCommit(include?: (key: string) => boolean): OffsetToCommit[] {
    const offsets: OffsetToCommit[] = [];
    for (const progress of this.tracker.all()) {
      const done = progress.committable;
      if (done === undefined) continue;
      const key = progress.partition;
      if (include && !include(key)) continue;
      const next = (BigInt(done) + 1n).toString();
      if (this.committed.get(key) === next) continue;
      const where = this.partitions.get(key);
      if (where) offsets.push({ ...where, offset: next });
    }
    // Positions carried over a reset and found ahead of the group's, with nothing tracked past
    // them yet: the commit that failed (or was refused) before the reset, tried again.
    for (const key of this.carriedAhead) {
      if (include && !include(key)) continue;
      if (this.tracker.has(key) && this.tracker.partition(key).committable !== undefined) continue;
      const next = this.carried.get(key)!.toString();
      const where = this.partitions.get(key);
      if (where && this.committed.get(key) !== next) offsets.push({ ...where, offset: next });
    }
    return offsets;
  }

  /** Events delivered and not yet acked, over all partitions. */
  inFlight(): number {
    let count = 0;
    for (const progress of this.tracker.all()) count += progress.pending;
    return count;
  }

  /**
   * Forgets everything in flight (a revoke): acks of events delivered so far are ignored. Each
   * partition's completed position is carried over (see {@link alreadyDone}).
   */
  reset(): void {
    for (const progress of this.tracker.all()) {
      const done = progress.committable;
      if (done === undefined) continue;
      const next = BigInt(done) + 1n;
      const carried = this.carried.get(progress.partition);
      if (carried === undefined || next > carried) this.carried.set(progress.partition, next);
      this.carriedAhead.delete(progress.partition); // confirmed again by the next fetch
    }
    for (const progress of this.tracker.all()) progress.reset();
    this.lastTracked.clear();
    this.committed.clear();
    this.basePositions.clear();
    // Fetching starts again from the committed offsets, which re-records what comes back.
    this.delivered.clear();
  }

  /** Drops the partitions for which `held` is false (no longer assigned). */
  forget(held: (key: string) => boolean): void {
    for (const key of [...this.partitions.keys()]) {
      if (held(key)) continue;
      this.tracker.remove(key);
      this.partitions.delete(key);
      this.highWatermarks.delete(key);
      this.lastTracked.delete(key);
      this.delivered.delete(key);
    }
    // A partition assigned elsewhere: whoever reads it now commits it; a position carried from
    // before would only be stale if it came back (or wrong, were the topic recreated meanwhile).
    for (const key of [...this.carried.keys()]) if (!held(key)) this.dropCarried(key);
  }

  /** Positions carried over resets, for logs and tests. */
  carriedPositions(): Map<string, string> {
    return new Map([...this.carried].map(([key, offset]) => [key, offset.toString()]));
  }

  private dropCarried(key: string): void {
    this.carried.delete(key);
    this.carriedAhead.delete(key);
  }

  /** Each held partition's lag in the shared vocabulary (see kafka-lag.ts). */
  *lag(held: (key: string) => boolean): Iterable<PartitionLag> {
    for (const [key, highWatermark] of this.highWatermarks) {
      const where = this.partitions.get(key);
      if (!where || !held(key)) continue;
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
}
