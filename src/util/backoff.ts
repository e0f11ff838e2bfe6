/**
 * The delay before try `attempt + 1` (attempt ≥ 1): exponential from `initialMs` by `multiplier`,
 * capped at `maxMs`, with "equal jitter" (half fixed, half random) so that many failing callers
 * (events, shards, streams) do not come back in lockstep against a struggling dependency.
 */
export function backoffMs(
  policy: { initialMs: number; maxMs: number; multiplier?: number },
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponential = policy.initialMs * (policy.multiplier ?? 2) ** Math.min(attempt - 1, 30);
  const capped = Math.min(policy.maxMs, exponential);
  return capped / 2 + random() * (capped / 2);
}

/** {@link backoffMs} with the attempt counted: `next()` after a failure, `reset()` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly multiplier = 2,
  ) {}

  next(): number {
    this.attempt = Math.min(this.attempt + 1, 31);
    return backoffMs({ initialMs: this.initialMs, maxMs: this.maxMs, multiplier: this.multiplier }, this.attempt);
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
