import type { Logger } from 'pino';

/** Since when a broker does not answer, and the first error that said so. */
export interface OutageProblem {
  readonly message: string;
  readonly since: number;
}

/**
 * A broker that stopped answering a source whose client retries by itself and would otherwise
 * look idle: Pub/Sub's subscriber retries a cut stream, @platformatic/kafka its heartbeats and
 * fetches, each saying so only in debug events. The binding reports what it sees ({@link failed}
 * on a failed call, {@link answered} on any sign of life); this keeps the first failure of the
 * outage for the source's health (not ready while it lasts, so /readyz and SluiceNotReady see it)
 * and logs the outage once when it begins and once when it ends, with its length.
 */
export class Outage {
  private failure: OutageProblem | undefined;

  constructor(
    private readonly logger: Logger,
    /** What does not answer, as the log lines name it: `kafka at host:9092`. */
    private readonly what: string,
  ) {}

  /** What is wrong, from the first failure until the broker answers again. */
  get problem(): OutageProblem | undefined {
    return this.failure;
  }

  /** For health while the outage lasts: `unreachable for 12 s (<first error>)`; undefined otherwise. */
  describe(): string | undefined {
    const failure = this.failure;
    if (!failure) return undefined;
    return `unreachable for ${Math.round((Date.now() - failure.since) / 1000)} s (${failure.message})`;
  }

  /** A call failed with `message`: the outage begins now unless it runs already. */
  failed(message: string): void {
    if (this.failure) return;
    this.failure = { message: message || 'no answer', since: Date.now() };
    this.logger.warn({ error: this.failure.message }, `${this.what} does not answer; not ready until it does`);
  }

  /** The broker answered (`how`): an outage under way ends. */
  answered(how: string): boolean {
    const failure = this.failure;
    if (!failure) return false;
    this.failure = undefined;
    this.logger.info({ unreachableMs: Date.now() - failure.since }, `${this.what} is reachable again (${how})`);
    return true;
  }
}
