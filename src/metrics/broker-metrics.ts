/**
 * The one metrics idiom of adapters. Naming rule: a series whose meaning every broker shares is
 * `sluice_<thing>` and lives in the core (src/metrics/prometheus.ts, source-metrics.ts); a series
 * only one broker can tell is `sluice_<broker>_<thing>`, made here. Every series carries the
 * label `broker`, and every series without further labels exists (at 0) from the moment the
 * adapter is built, so that `rate()`, `absent()` and dashboards see it before the first event.
 *
 * One {@link BrokerMetrics} per registry and broker ({@link BrokerMetrics.for}): every adapter
 * and source on one registry (a restarted source, the dead-letter publisher's adapter) shares it,
 * so nothing registers twice and nothing exports a stale copy. The hot path bumps plain numbers
 * or prom-client metrics made here; `sampled*` series read numbers when scraped.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FastHistogram } from '../util/fast-histogram.ts';

type Labels = Record<string, string>;

export class BrokerMetrics {
  private static readonly byRegistry = new WeakMap<Registry, Map<string, BrokerMetrics>>();
  private readonly shared = new Map<string, unknown>();
  /** `{ broker }`: the label every series of this broker carries. */
  readonly labels: { readonly broker: string };

  /** The metrics of `broker` on `registry` (injected: never prom-client's global one). */
  static for(registry: Registry, broker: string): BrokerMetrics {
    let byBroker = BrokerMetrics.byRegistry.get(registry);
    if (!byBroker) {
      byBroker = new Map();
      BrokerMetrics.byRegistry.set(registry, byBroker);
    }
    let metrics = byBroker.get(broker);
    if (!metrics) {
      metrics = new BrokerMetrics(registry, broker);
      byBroker.set(broker, metrics);
    }
    return metrics;
  }

  private constructor(
    readonly registry: Registry,
    readonly broker: string,
  ) {
    if (!/^[a-z][a-z0-9]*$/.test(broker)) throw new Error(`metrics: broker name ${broker} is not [a-z][a-z0-9]*`);
    this.labels = { broker };
  }

  /**
   * What `create` makes, once per registry and broker: an adapter's own metrics object (its
   * plain-number counters), shared as the series are.
   */
  once<T>(key: string, create: (metrics: BrokerMetrics) => T): T {
    if (!this.shared.has(key)) this.shared.set(key, create(this));
    return this.shared.get(key) as T;
  }

  /** `sluice_<broker>_<thing>`: the only names this helper makes. */
  name(thing: string): string {
    if (!/^[a-z][a-z0-9_]*$/.test(thing)) throw new Error(`metrics: ${thing} is not a metric name part ([a-z][a-z0-9_]*)`);
    return `sluice_${this.broker}_${thing}`;
  }

  /** A counter labelled `broker` and `labelNames`; without further labels its series starts at 0. */
  counter<L extends string = never>(thing: string, help: string, labelNames: readonly L[] = []): Counter<'broker' | L> {
    return this.reuse(thing, (name) => {
      const counter = new Counter({ name, help, labelNames: ['broker', ...labelNames], registers: [this.registry] });
      if (labelNames.length === 0) counter.inc(this.labels as never, 0);
      return counter;
    });
  }

  /** A gauge labelled `broker` and `labelNames`; without further labels its series starts at 0. */
  gauge<L extends string = never>(thing: string, help: string, labelNames: readonly L[] = []): Gauge<'broker' | L> {
    return this.reuse(thing, (name) => {
      const gauge = new Gauge({ name, help, labelNames: ['broker', ...labelNames], registers: [this.registry] });
      if (labelNames.length === 0) gauge.set(this.labels as never, 0);
      return gauge;
    });
  }

  /** A histogram labelled `broker` and `labelNames`. */
  histogram<L extends string = never>(
    thing: string,
    help: string,
    buckets: number[],
    labelNames: readonly L[] = [],
  ): Histogram<'broker' | L> {
    return this.reuse(
      thing,
      (name) => new Histogram({ name, help, buckets, labelNames: ['broker', ...labelNames], registers: [this.registry] }),
    );
  }

  /** A counter whose value is read when scraped (a plain number the hot path bumps). */
  sampledCounter(thing: string, help: string, read: () => number): void {
    const labels = this.labels;
    this.reuse(
      thing,
      (name) =>
        new Counter({
          name,
          help,
          labelNames: ['broker'],
          registers: [this.registry],
          collect() {
            this.reset();
            this.inc(labels, read());
          },
        }),
    );
  }

  /**
   * A counter with one label more, `labelName`, whose values are read when scraped: `read()`
   * returns a count per label value, and every value it names is a series from the start.
   */
  sampledCounterBy(thing: string, help: string, labelName: string, read: () => Record<string, number>): void {
    const labels = this.labels;
    this.reuse(
      thing,
      (name) =>
        new Counter({
          name,
          help,
          labelNames: ['broker', labelName],
          registers: [this.registry],
          collect() {
            this.reset();
            for (const [value, count] of Object.entries(read())) this.inc({ ...labels, [labelName]: value }, count);
          },
        }),
    );
  }

  /** A gauge whose value is read when scraped. */
  sampledGauge(thing: string, help: string, read: () => number): void {
    const labels = this.labels;
    this.reuse(
      thing,
      (name) =>
        new Gauge({
          name,
          help,
          labelNames: ['broker'],
          registers: [this.registry],
          collect() {
            this.set(labels, read());
          },
        }),
    );
  }

  /** A {@link FastHistogram} the hot path records into, exported as a histogram when scraped. */
  sampledHistogram(thing: string, help: string, source: FastHistogram): void {
    this.reuse(thing, (name) => {
      const view = new HistogramView(name, help, source, this.labels);
      this.registry.registerMetric(view as never);
      return view;
    });
  }

  private reuse<T>(thing: string, create: (name: string) => T): T {
    const name = this.name(thing);
    return (this.registry.getSingleMetric(name) as T | undefined) ?? create(name);
  }
}

/**
 * Exposes a {@link FastHistogram} as a Prometheus histogram. prom-client's registry only needs
 * `name`, `help`, `type` and `get()`; the samples are built at scrape time.
 */
/** prom-client's exemplar shape. */
interface PromExemplar {
  labelSet: Record<string, string>;
  value: number;
  timestamp: number;
}

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
