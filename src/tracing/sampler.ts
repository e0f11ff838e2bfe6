import { isSampled, type TraceParent } from './propagation.ts';

/**
 * Sluice's sampling decision for one event, made once, when the event enters the queue: parent
 * based, as OpenTelemetry's ParentBased(TraceIdRatioBased) sampler. An event that arrived with a
 * `traceparent` follows it (sampled → traced, not sampled → not: the producer already decided
 * for the whole trace); one without is traced with probability `ratio`.
 *
 * It is decided here rather than by the SDK's sampler because asking the SDK means starting a
 * span (ids generated, a non-recording span allocated) for every event, sampled or not.
 *
 * The ratio is drawn as gaps, not per event: after each sampled event the number of events to
 * skip before the next is drawn from the geometric distribution of parameter `ratio`, which is
 * exactly the distribution of the gaps between successes of independent per-event draws. So the
 * events traced are the same in law as with one `random() < ratio` per event, while an untraced
 * event costs a decrement instead of a random draw (about 17 ns a draw on this project's VM,
 * against a core that spends about 450 ns an event).
 */
/** The most events `skip` counts at once: 2^30 - 1, V8's largest small integer. A longer gap is counted in blocks of it. */
const MAX_SKIP = 2 ** 30 - 1;

export class EventSampler {
  /**
   * Events to let pass before the next sampled one, always a small integer: a field that held
   * Infinity (ratio 0) or a larger count became a boxed double, and V8 threw away the code it had
   * made for this method ("not a Smi"). Ratio 0 is {@link never}; a longer gap (ratios below about
   * 1e-9) is counted in {@link blocks} of MAX_SKIP.
   */
  private skip = 0;
  private blocks = 0;
  /** Ratio 0: no event without a sampled parent is traced. */
  private readonly never: boolean;

  constructor(
    private readonly ratio: number,
    private readonly random: () => number = Math.random,
  ) {
    this.never = ratio <= 0;
    this.draw();
  }

  sample(parent: TraceParent | undefined): boolean {
    if (parent !== undefined) return isSampled(parent);
    if (this.never) return false;
    if (this.skip > 0) {
      this.skip--;
      return false;
    }
    if (this.blocks > 0) {
      this.blocks--;
      this.skip = MAX_SKIP - 1; // this event is the block's first
      return false;
    }
    this.draw();
    return true;
  }

  /** The next gap: Geometric(ratio) on {0, 1, 2, …}, as `blocks` · MAX_SKIP + `skip`. */
  private draw(): void {
    if (this.ratio >= 1 || this.never) {
      this.skip = 0;
      return;
    }
    // 1 - random() is in (0, 1]: the logarithm is finite; log1p keeps a tiny ratio from rounding to log(1) = 0.
    const gap = Math.floor(Math.log(1 - this.random()) / Math.log1p(-this.ratio));
    this.blocks = Math.floor(gap / MAX_SKIP);
    this.skip = gap - this.blocks * MAX_SKIP;
  }
}
