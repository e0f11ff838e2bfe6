import type { Pipeline } from '../core/pipeline.ts';
import type { FastHistogram } from '../util/fast-histogram.ts';

/**
 * One human line per interval: throughput, queue, workers, latency percentiles over the interval.
 * `rate 48,120/s | queue 2,310/10,000 | busy 16/16 | p99 4.1 ms | e2e p99 38 ms | paused 12%`
 */
export class SummaryReporter {
  private timer: NodeJS.Timeout | undefined;
  private lastCompleted = 0;
  private lastPaused = 0;
  private lastAt = performance.now();
  private lastProcessing: FastHistogram;
  private lastEndToEnd: FastHistogram;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly write: (line: string) => void,
  ) {
    this.lastProcessing = pipeline.stats.processingSeconds.snapshot();
    this.lastEndToEnd = pipeline.stats.endToEndSeconds.snapshot();
  }

  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => this.write(this.line()), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  line(): string {
    const stats = this.pipeline.stats;
    const now = performance.now();
    const seconds = (now - this.lastAt) / 1000;
    const completed = stats.completed;
    const rate = (completed - this.lastCompleted) / seconds;
    const pausedShare = (stats.pausedSeconds - this.lastPaused) / seconds;
    const processing = stats.processingSeconds.since(this.lastProcessing);
    const endToEnd = stats.endToEndSeconds.since(this.lastEndToEnd);
    this.lastAt = now;
    this.lastCompleted = completed;
    this.lastPaused = stats.pausedSeconds;
    this.lastProcessing = stats.processingSeconds.snapshot();
    this.lastEndToEnd = stats.endToEndSeconds.snapshot();
    const { queue, pool } = this.pipeline;
    const failed = stats.processed.failed + stats.processed.dead_lettered;
    return [
      `rate ${fmt(rate)}/s`,
      `queue ${fmt(queue.depth)}/${fmt(queue.capacity.events)}`,
      `busy ${pool.busy}/${pool.size}`,
      `p99 ${ms(processing.quantile(0.99))}`,
      `e2e p99 ${ms(endToEnd.quantile(0.99))}`,
      `paused ${Math.round(Math.min(1, pausedShare) * 100)}%`,
      `done ${fmt(completed)}${failed ? ` (dlq/failed ${fmt(failed)})` : ''}`,
    ].join(' | ');
  }
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function ms(seconds: number): string {
  const value = seconds * 1000;
  return `${value < 10 ? value.toFixed(2) : Math.round(value)} ms`;
}
