export { sleep } from '../../src/util/sleep.ts';

/**
 * Exponential backoff with equal jitter: half fixed, half random, so that many shards throttled
 * together do not come back in lockstep. `reset()` after a success.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {}

  next(): number {
    const capped = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return capped / 2 + Math.random() * (capped / 2);
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
