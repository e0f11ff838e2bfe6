import type { Logger } from 'pino';
import { errorMessage } from '../../src/errors.ts';
import type { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { SHARD_END } from './lease.ts';
import type { LeaseCoordinator } from './lease-coordinator.ts';
import type { ShardConsumer } from './shard-consumer.ts';

export type CheckpointOutcome = 'written' | 'nothing' | 'lost' | 'failed';

/**
 * Writes each shard's progress to the lease: the highest sequence number such that it and every
 * record before it were processed (src/core/offset-tracker.ts), i.e. reading resumes
 * AFTER_SEQUENCE_NUMBER of it. Periodically (only shards that moved), on lease loss, at a shard's
 * end (SHARD_END) and on shutdown.
 *
 * Writes of one shard are chained, so an older value can never land after a newer one, and
 * nothing is written after SHARD_END. A value whose write failed (throttled, network) is kept
 * and written by the next flush.
 */
export class Checkpointer {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly coordinator: LeaseCoordinator,
    private readonly intervalMs: number,
    private readonly onLost: (consumer: ShardConsumer) => void,
    private readonly logger: Logger,
    private readonly commits: CommitCounts,
  ) {}

  start(consumers: () => Iterable<ShardConsumer>): void {
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        void Promise.all([...consumers()].map((consumer) => this.flush(consumer))).finally(tick);
      }, this.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * Takes the shard's committable position now (before a lease loss resets its progress) and
   * keeps it until written.
   */
  capture(consumer: ShardConsumer): void {
    const value = consumer.progress.takeCommittable();
    if (value === undefined) return;
    consumer.unwritten = value;
    consumer.unwrittenCount = consumer.progress.completed;
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
