/**
 * Sampled series: prom-client metrics whose values are read when scraped from plain numbers (or
 * a {@link FastHistogram}) the hot path bumps, so that the per-event path does no metrics work.
 * The core (prometheus.ts) and every adapter (broker-metrics.ts) make theirs with these; `labels`
 * is `{ broker }` (README.md, Metrics and health: every series carries it).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { FastHistogram } from '../util/fast-histogram.ts';

type Labels = Readonly<Record<string, string>>;

/**
 * What a sampled counter reads: the count; or, with `labelName` (one label more), a count per
 * value of that label, every value it names being a series from the start.
 */
export type CounterRead = [read: () => number] | [read: () => Readonly<Record<string, number>>, labelName: string];

/** A counter read when scraped ({@link CounterRead}). */
export function sampledCounter(registry: Registry, name: string, help: string, labels: Labels, ...[read, labelName]: CounterRead): Counter {
  return new Counter({
    name,
    help,
    labelNames: [...Object.keys(labels), ...(labelName === undefined ? [] : [labelName])],
    registers: [registry],
    collect() {
      this.reset();
      const counts = read();
      if (typeof counts === 'number') this.inc(labels, counts);
      else for (const [value, count] of Object.entries(counts)) this.inc({ ...labels, [labelName as string]: value }, count);
    },
  });
}

/** A gauge read when scraped. */
export function sampledGauge(registry: Registry, name: string, help: string, labels: Labels, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    labelNames: Object.keys(labels),
    registers: [registry],
    collect() {
      this.set(labels, read());
    },
  });
}

/** prom-client's exemplar shape. */
interface PromExemplar {
  labelSet: Record<string, string>;
  value: number;
  timestamp: number;
}

/**
 * Exposes a {@link FastHistogram} as a Prometheus histogram. prom-client's registry only needs
 * `name`, `help`, `type` and `get()`; the samples are built at scrape time.
 */

export class HistogramView {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly histogram: FastHistogram,
    private readonly labels: Labels,
  ) {}

  get() {
    const { buckets, counts, exemplars } = this.histogram;
    const values: { value: number; labels: Record<string, string | number>; metricName: string; exemplar?: PromExemplar }[] = [];
    let cumulative = 0;
    for (let i = 0; i <= buckets.length; i++) {
      cumulative += counts[i]!;
      const le = i < buckets.length ? buckets[i]! : '+Inf';
      // A bucket's exemplar (tracing.exemplars): rendered by prom-client in OpenMetrics only.
      const exemplar = exemplars?.[i];
      values.push({
        value: cumulative,
        labels: { ...this.labels, le },
        metricName: `${this.name}_bucket`,
        exemplar: exemplar && { labelSet: { trace_id: exemplar.traceId }, value: exemplar.value, timestamp: exemplar.timestamp },
      });
    }
    values.push({ value: this.histogram.sum, labels: this.labels, metricName: `${this.name}_sum` });
    values.push({ value: this.histogram.count, labels: this.labels, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {}
}
