import type { PartitionLag } from '../../src/broker/contract.ts';
import type { PartitionProgress } from '../../src/source-kit/offset-tracker.ts';

/** What a Kafka source knows of one partition it holds, whichever client it reads with. */
export interface KafkaPartitionState {
  readonly topic: string;
  /** `topic/partition`. */
  readonly name: string;
  /** The partition's high watermark (next offset to be written) as of the last fetch. */
  readonly highWatermark: string | undefined;
  /**
   * The group's committed offset (next to read) as this source last committed it, or, before its
   * first commit, the first offset it read (where the group's committed offset had put it).
   */
  readonly committed: string | undefined;
  /** The partition's contiguous-ack progress, its fetched batches {@link PartitionProgress.stamp}ed. */
  readonly progress: PartitionProgress | undefined;
}

/**
 * A partition's lag in the shared vocabulary (src/metrics/source-metrics.ts): events = high
 * watermark minus the committed offset; the oldest unfinished event is the first record read and
 * not yet acked. Records not fetched yet are counted in `events` but have no known timestamp, so
 * a consumer whose fetches are stopped shows seconds of the records it holds only. Undefined when
 * the partition has not been fetched in this generation yet (no watermark or position known).
 */
export function kafkaPartitionLag(state: KafkaPartitionState): PartitionLag | undefined {
  if (state.highWatermark === undefined || state.committed === undefined) return undefined;
  const events = Number(BigInt(state.highWatermark) - BigInt(state.committed));
  return {
    source: state.topic,
    partition: state.name,
    events: Math.max(0, events),
    oldestMs: state.progress?.oldestPendingTimestamp,
  };
}
