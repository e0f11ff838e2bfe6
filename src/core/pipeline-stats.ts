import { DURATION_BUCKETS, FastHistogram } from '../util/fast-histogram.ts';

export const OUTCOMES = ['success', 'retried', 'dead_lettered', 'dropped', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/**
 * The core's counters, plain numbers written on the per-event path and read by the Prometheus
 * collectors and the summary line. One instance per pipeline.
 */
export class PipelineStats {
  received = 0;
  readonly processed: Record<Outcome, number> = { success: 0, retried: 0, dead_lettered: 0, dropped: 0, failed: 0 };
  /** Time a handler took, first try to final outcome, in seconds. */
  readonly processingSeconds = new FastHistogram(DURATION_BUCKETS);
  /** From the broker timestamp to the end of processing, in seconds. */
  readonly endToEndSeconds = new FastHistogram(DURATION_BUCKETS);
  /** Time spent paused because the queue was full, in seconds, and how often. */
  pausedSeconds = 0;
  pauses = 0;

  get completed(): number {
    const p = this.processed;
    return p.success + p.retried + p.dead_lettered + p.dropped + p.failed;
  }
}
