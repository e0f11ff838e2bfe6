import type { Logger } from 'pino';
import { errorMessage } from '../../src/errors.ts';
import type { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { type CommitFilter, CommitLoop } from '../../src/source-kit/index.ts';
import { within } from './client.ts';
import type { KafkaConfig } from './config.ts';
import type { OffsetToCommit, PartitionBook } from './partition-book.ts';

export interface KafkaCommitterDeps {
  config: Pick<KafkaConfig, 'group' | 'commitIntervalMs' | 'requestTimeoutMs'>;
  logger: Logger;
  book: PartitionBook;
  commits: CommitCounts;
  /** The client's commit of `offsets` (each the next offset to read) for the group. */
  send(offsets: OffsetToCommit[]): Promise<void>;
  /** Whether a failure is the group refusing a commit of an old generation (expected in a rebalance). */
  quiet(error: unknown): boolean;
  /** Runs at every tick of the commit loop (a binding refreshes its high watermarks). */
  tick(): void;
}

/**
 * The Kafka source's commits, on the kit's {@link CommitLoop}: every `commitIntervalMs`, on revoke
 * (only partitions still held) and on close, each partition's next offset (one past the highest
 * contiguous acked), serialized, each bounded by `requestTimeoutMs`. Counts commits made and
 * failed by topic (the shared sluice_source_commit* series).
 */
export class KafkaCommitter {
  private readonly loop: CommitLoop;

  constructor(private readonly deps: KafkaCommitterDeps) {
    this.loop = new CommitLoop({
      intervalMs: deps.config.commitIntervalMs,
      commit: (include) => this.commitNow(include),
      failed: (error) => this.failed(error),
      tick: deps.tick,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** Commits (after any commit under way); a failure is logged, never thrown. */
  commit(include?: CommitFilter): Promise<void> {
    return this.loop.commit(include).catch((error: unknown) => this.failed(error));
  }

  /** The final commit on close: what it could not commit is delivered again to the next owner. */
  async final(): Promise<void> {
    await this.loop
      .finish()
      .catch((error: unknown) =>
        this.deps.logger.warn(
          { group: this.deps.config.group, error: errorMessage(error) },
          'kafka: final offset commit failed; uncommitted events will be delivered again',
        ),
      );
  }

  /** Offsets the group confirmed (the client's commit event, or after {@link send} resolved). */
  confirmed(offsets: readonly OffsetToCommit[]): void {
    for (const topic of new Set(offsets.map((offset) => offset.topic))) this.deps.commits.commit(topic);
    this.deps.book.committedAt(offsets);
  }

  private async commitNow(include?: CommitFilter): Promise<void> {
    const { book, config } = this.deps;
    const offsets = book.toCommit(include);
    if (offsets.length === 0) return;
    book.auditCommit(offsets);
    try {
      await within(
        this.deps.send(offsets),
        config.requestTimeoutMs,
        () => `kafka: offset commit not confirmed within ${config.requestTimeoutMs} ms`,
      );
    } catch (error) {
      for (const topic of new Set(offsets.map((offset) => offset.topic))) this.deps.commits.fail(topic);
      throw error;
    }
  }

  private failed(error: unknown): void {
    // During a rebalance the coordinator refuses commits of the old generation: expected.
    const level = this.deps.quiet(error) ? 'debug' : 'warn';
    this.deps.logger[level]({ group: this.deps.config.group, error: errorMessage(error) }, 'kafka offset commit failed; it is tried again');
  }
}
