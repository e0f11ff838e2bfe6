/** Only the partitions (by name) for which it returns true are committed. */
export type CommitFilter = (partition: string) => boolean;

export interface CommitLoopOptions {
  /** How often the periodic commit runs. */
  intervalMs: number;
  /**
   * Writes each partition's committable position (only those `include` accepts): the adapter's
   * broker-specific part (a Kafka offset commit, a Kinesis lease checkpoint, a memory group).
   * Never called twice at once.
   */
  commit(include?: CommitFilter): Promise<void> | void;
  /** A periodic commit failed (it is tried again at the next tick). */
  failed(error: unknown): void;
  /** Runs at every tick before the commit (e.g. refresh high watermarks). */
  tick?: () => void;
}

/**
 * The serialized periodic commit loop. Commits run one at a time, in the order asked: a periodic
 * one, the one a revoke asks for (with a filter: only partitions still held), the final one on
 * close. So an older position can never land after a newer one. A tick while a periodic commit
 * is still running (a slow broker) is skipped instead of queueing commits behind it.
 */
export class CommitLoop {
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private periodic = false;

  constructor(private readonly options: CommitLoopOptions) {}

  /** Starts the periodic commits (the timer is unref'd). */
  start(): void {
    this.timer = setInterval(() => {
      this.options.tick?.();
      if (this.periodic) return;
      this.periodic = true;
      this.commit()
        .catch((error: unknown) => this.options.failed(error))
        .finally(() => (this.periodic = false));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Commits after every commit asked for before; rejects with this commit's failure. */
  commit(include?: CommitFilter): Promise<void> {
    const run = this.chain.then(() => this.options.commit(include));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stops the periodic commits; commits already asked for still run. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stops, then commits once more (close): rejects with that commit's failure. */
  finish(): Promise<void> {
    this.stop();
    return this.commit();
  }
}
