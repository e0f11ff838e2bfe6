import type { AckAudit } from '../../src/audit/ack-audit.ts';
import { type DeliveredLedger, ledgerOf } from '../../src/audit/delivered-ledger.ts';
import type { PartitionLag } from '../../src/broker/contract.ts';
import { OffsetTracker, type PartitionProgress } from '../../src/core/offset-tracker.ts';
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
  /** With the ack audit on: per partition, what was delivered and no commit covered yet. */
  private readonly delivered = new Map<string, DeliveredLedger>();

  constructor(private readonly audit?: AckAudit) {}

  /** The progress of a partition whose events are about to be delivered, from `firstOffset` on. */
  progress(topic: string, partition: number, firstOffset: string): PartitionProgress {
    const key = partitionKey(topic, partition);
    if (!this.partitions.has(key)) this.partitions.set(key, { topic, partition });
    if (!this.basePositions.has(key)) this.basePositions.set(key, firstOffset);
    return this.tracker.partition(key);
  }

  /** With the audit on: records records[from..to) of partition `key` as delivered. */
  audited(key: string, records: readonly { offset: string }[], from: number, to: number): void {
    if (!this.audit) return;
    const ledger = ledgerOf(this.delivered, key);
    for (let i = from; i < to; i++) ledger.record(records[i]!.offset, `${key}@${records[i]!.offset}`);
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
    for (const { topic, partition, offset } of offsets) this.committed.set(partitionKey(topic, partition), offset);
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
    return offsets;
  }

  /** Events delivered and not yet acked, over all partitions. */
  inFlight(): number {
    let count = 0;
    for (const progress of this.tracker.all()) count += progress.pending;
    return count;
  }

  /** Forgets everything in flight (a revoke): acks of events delivered so far are ignored. */
  reset(): void {
    for (const progress of this.tracker.all()) progress.reset();
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
      this.delivered.delete(key);
    }
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
