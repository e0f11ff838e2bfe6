/**
 * A histogram whose observe() is a few comparisons and two additions, for the per-event path.
 * prom-client's Histogram costs ~0.2 µs per observe (label lookup, object walk); at a million
 * events a second that alone would be a fifth of the budget. This one keeps plain arrays and is
 * turned into Prometheus samples only when scraped (see prometheus.ts).
 */
export class FastHistogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly buckets: readonly number[]) {
    this.counts = new Float64Array(buckets.length + 1);
  }

  /**
   * The latest traced observation of each bucket (`tracing.exemplars`), rendered as OpenMetrics
   * exemplars; allocated on the first one, so a histogram without tracing carries nothing.
   */
  exemplars: (Exemplar | undefined)[] | undefined;

  /**
   * The bucket of the previous observation: consecutive values mostly share one (a synchronous
   * handler's durations all fall in the first; a backlog's end-to-end latencies climb slowly),
   * so it is tried first, with two comparisons, before the bisection.
   */
  private last = 0;

  /** Records `value`; returns the index of its bucket (the last is +Inf). */
  observe(value: number): number {
    const buckets = this.buckets;
    const last = this.last;
    // Bucket i holds (buckets[i - 1], buckets[i]]; the last slot (i = buckets.length) is +Inf.
    if ((last === 0 || value > buckets[last - 1]!) && (last === buckets.length || value <= buckets[last]!)) {
      this.counts[last]!++;
      this.sum += value;
      this.count++;
      return last;
    }
    // The first bucket whose bound is >= value (the last slot is +Inf), by bisection: a backlog's
    // end-to-end latencies all land in the top buckets, where a linear walk takes 18 steps.
    let low = 0;
    let high = buckets.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (value > buckets[middle]!) low = middle + 1;
      else high = middle;
    }
    this.counts[low]!++;
    this.sum += value;
    this.count++;
    this.last = low;
    return low;
  }

  /** Records `count` observations of `value` at once (sum += value · count): a burst of events that all took about `value`. */
  observeMany(value: number, count: number): void {
    if (count <= 0) return;
    const bucket = this.observe(value);
    this.counts[bucket]! += count - 1;
    this.sum += value * (count - 1);
    this.count += count - 1;
  }

  /** Records `value` of the traced event `traceId` at `timestamp` (epoch seconds), and keeps it as its bucket's exemplar. */
  observeExemplar(value: number, traceId: string, timestamp: number): void {
    const bucket = this.observe(value);
    this.exemplars ??= new Array<Exemplar | undefined>(this.counts.length).fill(undefined);
    this.exemplars[bucket] = { value, traceId, timestamp };
  }

  /** The value below which `q` (0..1) of observations fall, interpolated inside its bucket. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const inBucket = this.counts[i]!;
      if (seen + inBucket >= rank && inBucket > 0) {
        const lower = i === 0 ? 0 : this.buckets[i - 1]!;
        const upper = i < this.buckets.length ? this.buckets[i]! : lower * 2 || 1;
        return lower + ((upper - lower) * (rank - seen)) / inBucket;
      }
      seen += inBucket;
    }
    return this.buckets[this.buckets.length - 1]!;
  }

  /** A copy, for interval deltas (summary lines, benchmarks). */
  snapshot(): FastHistogram {
    const copy = new FastHistogram(this.buckets);
    copy.counts.set(this.counts);
    copy.sum = this.sum;
    copy.count = this.count;
    return copy;
  }

  /** This histogram minus an earlier snapshot of it: the observations in between. */
  since(earlier: FastHistogram): FastHistogram {
    const delta = new FastHistogram(this.buckets);
    for (let i = 0; i < this.counts.length; i++) delta.counts[i] = this.counts[i]! - earlier.counts[i]!;
    delta.sum = this.sum - earlier.sum;
    delta.count = this.count - earlier.count;
    return delta;
  }
}

/** One exemplar: a traced observation. */
export interface Exemplar {
  readonly value: number;
  readonly traceId: string;
  /** Seconds since the epoch, as OpenMetrics wants. */
  readonly timestamp: number;
}

/** Seconds, from 100 µs to 60 s: handlers range from no-ops to calls to slow services. */
export const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
