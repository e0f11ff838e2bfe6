/**
 * The one metrics idiom of adapters. The naming rule is written down once, in README.md (Metrics
 * and health): core series are `sluice_<concern>_*`; a series only one broker can tell is
 * `sluice_<broker>_<thing>`, made here and only here. Every series carries the label `broker`,
 * and every series without further labels exists (at 0) from the moment the adapter is built, so
 * that `rate()`, `absent()` and dashboards see it before the first event.
 *
 * One {@link BrokerMetrics} per registry and broker ({@link BrokerMetrics.for}): every adapter
 * and source on one registry (a restarted source, the dead-letter publisher's adapter) shares it,
 * so nothing registers twice and nothing exports a stale copy. The hot path bumps plain numbers
 * or prom-client metrics made here; `sampled*` series read numbers when scraped.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FastHistogram } from '../util/fast-histogram.ts';
import { type CounterRead, HistogramView, sampledCounter, sampledGauge } from './sampled.ts';

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

  /**
   * A counter whose values are read when scraped (plain numbers the hot path bumps): the count, or,
   * given a label name after `read`, a count per value of that label ({@link CounterRead}).
   */
  sampledCounter(thing: string, help: string, ...read: CounterRead): void {
    this.reuse(thing, (name) => sampledCounter(this.registry, name, help, this.labels, ...read));
  }

  /** A gauge whose value is read when scraped. */
  sampledGauge(thing: string, help: string, read: () => number): void {
    this.reuse(thing, (name) => sampledGauge(this.registry, name, help, this.labels, read));
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
