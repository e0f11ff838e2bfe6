import type { Logger } from 'pino';
import { errorMessage } from '../../src/errors.ts';
import type { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { type Lease, SHARD_END } from './lease.ts';
import type { LeaseCoordinator } from './lease-coordinator.ts';
import type { ShardConsumer } from './shard-consumer.ts';

export type CheckpointOutcome = 'written' | 'nothing' | 'lost' | 'failed';

/**
 * Writes a shard's progress to its lease: the highest sequence number such that it and every
 * record before it were processed (src/source-kit/offset-tracker.ts), i.e. reading resumes
 * AFTER_SEQUENCE_NUMBER of it. The source's CommitLoop (src/source-kit) flushes every shard
 * periodically (only shards that moved are written) and on close; the source also flushes one
 * shard on lease loss and at its end (SHARD_END).
 *
 * Each shard's writes are chained here rather than in the CommitLoop: a write is one lease's
 * (conditional on owning it, with an outcome per shard), and a lost lease's last write or a
 * SHARD_END must not wait behind the other shards' periodic writes. So an older value of a shard
 * can never land after a newer one, and nothing is written after SHARD_END. A value whose write
 * failed (throttled, network) is kept and written by the next flush.
 */
export class Checkpointer {
  /** Checkpoint each shard was last read from (the lease's, or a carried one). */
  private readonly startedFrom = new Map<string, string>();
  /**
   * Per shard whose lease this instance lost while its checkpoint could not be written (the table
   * unreachable: a broker outage): the position processed, and the checkpoint it follows.
   */
  private readonly carried = new Map<string, { value: string; after: string }>();
  /** Carried positions a re-acquired shard resumed from, to write at its next flush. */
  private readonly pending = new Map<string, string>();

  constructor(
    private readonly coordinator: LeaseCoordinator,
    private readonly onLost: (consumer: ShardConsumer) => void,
    private readonly logger: Logger,
    private readonly commits: CommitCounts,
  ) {}

  /**
   * Takes the shard's committable position now (before a lease loss resets its progress) and
   * keeps it until written.
   */
  capture(consumer: ShardConsumer): void {
    const pending = this.pending.get(consumer.shardId);
    this.pending.delete(consumer.shardId);
    const value = consumer.progress.takeCommittable() ?? pending;
    if (value === undefined) return;
    consumer.unwritten = value;
    consumer.unwrittenCount = consumer.progress.completed;
  }

  /**
   * Where to read a shard just acquired. If this instance lost the lease with progress it could
   * not checkpoint, and the lease still holds the checkpoint that progress follows (nobody moved
   * it meanwhile), reading resumes after that progress instead of processing it again, and the
   * next flush writes it (the failed checkpoint, tried again). Otherwise the lease's checkpoint.
   */
  resumeFrom(lease: Pick<Lease, 'leaseKey' | 'checkpoint'>): string {
    const carried = this.carried.get(lease.leaseKey);
    this.carried.delete(lease.leaseKey);
    const resumed = carried !== undefined && carried.after === lease.checkpoint;
    if (resumed) this.pending.set(lease.leaseKey, carried.value);
    else this.pending.delete(lease.leaseKey);
    const from = resumed ? carried.value : lease.checkpoint;
    this.startedFrom.set(lease.leaseKey, from);
    return from;
  }

  /** Writes what the shard processed, or `final` (SHARD_END). */
  flush(consumer: ShardConsumer, final?: string, childShardIds?: readonly string[]): Promise<CheckpointOutcome> {
    if (final === undefined && !consumer.released) this.capture(consumer);
    const write = consumer.checkpointChain.then(async (): Promise<CheckpointOutcome> => {
      if (consumer.written === SHARD_END) return 'nothing';
      const value = final ?? consumer.unwritten;
      if (value === undefined) return 'nothing';
      const count = final === undefined ? consumer.unwrittenCount : consumer.progress.completed;
      try {
        consumer.auditCheckpoint(value);
        const outcome = await this.coordinator.checkpoint(consumer.shardId, value, childShardIds);
        if (outcome === 'lost') {
          consumer.unwritten = undefined;
          this.commits.fail(consumer.stream);
          this.onLost(consumer);
          return 'lost';
        }
        if (consumer.unwritten === value) consumer.unwritten = undefined;
        consumer.written = value;
        consumer.writtenCount = count;
        this.commits.commit(consumer.stream);
        return 'written';
      } catch (error) {
        this.commits.fail(consumer.stream);
        // The lease is gone and the table unreachable: keep the position for when it comes back.
        const after = consumer.written ?? this.startedFrom.get(consumer.shardId);
        if (consumer.released && final === undefined && after !== undefined) this.carried.set(consumer.shardId, { value, after });
        this.logger.warn(
          { shard: consumer.shardId, checkpoint: value, error: errorMessage(error) },
          'kinesis: checkpoint failed; will try again',
        );
        return 'failed';
      }
    });
    consumer.checkpointChain = write;
    return write;
  }
}
