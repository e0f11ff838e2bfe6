import type { Registry } from 'prom-client';
import { BrokerMetrics } from '../../src/metrics/broker-metrics.ts';

/**
 * What a source reports to the Kafka-specific metrics at scrape time. (Lag and commits are the
 * shared series of src/metrics/source-metrics.ts: see kafka-lag.ts.)
 */
export interface KafkaSourceView {
  connected(): boolean;
}

/**
 * The Kafka adapter's own series, `sluice_kafka_*` (lag and commits are the shared
 * sluice_source_* series: src/metrics/source-metrics.ts), made with the one adapter idiom
 * (src/metrics/broker-metrics.ts): labelled `broker`, present at 0 from the moment the adapter is
 * built. Values are read from the live sources when scraped; the hot path only bumps plain
 * numbers. One instance per registry ({@link KafkaMetrics.for}), shared by every Kafka adapter
 * and source on it.
 */
export class KafkaMetrics {
  static for(registry: Registry): KafkaMetrics {
    return BrokerMetrics.for(registry, 'kafka').once('kafka', (metrics) => new KafkaMetrics(metrics));
  }

  readonly sources = new Set<KafkaSourceView>();
  rebalances = 0;

  private constructor(metrics: BrokerMetrics) {
    metrics.sampledCounter(
      'rebalances_total',
      'Consumer group rebalances this instance went through (partitions revoked and assigned again).',
      () => this.rebalances,
    );
    metrics.sampledGauge('connected', '1 while a source of this instance is a member of its consumer group, else 0.', () => {
      for (const source of this.sources) if (source.connected()) return 1;
      return 0;
    });
  }
}
