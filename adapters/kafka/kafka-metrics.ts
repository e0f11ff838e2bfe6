import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * What a source reports to the Kafka-specific metrics at scrape time. (Lag and commits are the
 * shared series of src/metrics/source-metrics.ts: see kafka-lag.ts.)
 */
export interface KafkaSourceView {
  connected(): boolean;
}

const byRegistry = new WeakMap<Registry, KafkaMetrics>();

/**
 * Kafka-specific metrics on the injected registry (never the global one). Values are read from
 * the live sources when scraped; the hot path only bumps plain numbers. One instance per
 * registry, shared by every Kafka adapter and source on it, so that names are registered once.
 */
export class KafkaMetrics {
  readonly sources = new Set<KafkaSourceView>();
  rebalances = 0;

  static on(registry: Registry): KafkaMetrics {
    let metrics = byRegistry.get(registry);
    if (!metrics) {
      metrics = new KafkaMetrics(registry);
      byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  private constructor(registry: Registry) {
    const labels = { broker: 'kafka' };
    const sources = this.sources;
    const self = this;
    new Counter({
      name: 'sluice_rebalances_total',
      help: 'Consumer group rebalances this instance went through (partitions revoked and assigned again).',
      labelNames: ['broker'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc(labels, self.rebalances);
      },
    });
    new Gauge({
      name: 'sluice_broker_connected',
      help: '1 while the source is a member of its consumer group with an assignment, else 0.',
      labelNames: ['broker'],
      registers: [registry],
      collect() {
        let connected = 0;
        for (const source of sources) if (source.connected()) connected = 1;
        this.set(labels, connected);
      },
    });
  }
}
