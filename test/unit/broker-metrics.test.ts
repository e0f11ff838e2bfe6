import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HttpMetrics } from '../../adapters/http/metrics.ts';
import { KafkaMetrics } from '../../adapters/kafka/kafka-metrics.ts';
import { KinesisMetrics } from '../../adapters/kinesis/metrics.ts';
import { PubSubMetrics } from '../../adapters/pubsub/metrics.ts';
import { MemoryBroker } from '../../adapters/memory/memory-broker.ts';
import { ForwardMetrics } from '../../src/bridge/forward-metrics.ts';
import { brokerTypes } from '../../src/composition/adapters.ts';
import { NO_FAULTS } from '../../src/faults/fault-state.ts';
import { installFaults } from '../../src/faults/install.ts';
import { BrokerMetrics } from '../../src/metrics/broker-metrics.ts';
import { registerPipelineMetrics } from '../../src/metrics/prometheus.ts';
import { memoryPipeline, silent } from './helpers.ts';

/** The families on `registry` and their samples, as a scrape sees them. */
async function scrape(registry: Registry) {
  const names = registry.getMetricsAsArray().map((metric) => metric.name);
  return Promise.all(names.map(async (name) => ({ name, values: (await registry.getSingleMetric(name)!.get()).values })));
}

describe('the adapter metrics idiom (src/metrics/broker-metrics.ts)', () => {
  it('is one per registry and broker: a second adapter or a restarted source reuses the series', () => {
    const registry = new Registry();
    expect(BrokerMetrics.for(registry, 'pubsub')).toBe(BrokerMetrics.for(registry, 'pubsub'));
    expect(BrokerMetrics.for(registry, 'http')).not.toBe(BrokerMetrics.for(registry, 'pubsub'));
    expect(BrokerMetrics.for(new Registry(), 'pubsub')).not.toBe(BrokerMetrics.for(registry, 'pubsub'));
    expect(PubSubMetrics.for(registry)).toBe(PubSubMetrics.for(registry));
    expect(HttpMetrics.for(registry)).toBe(HttpMetrics.for(registry));
    expect(KafkaMetrics.for(registry)).toBe(KafkaMetrics.for(registry));
    new KinesisMetrics(registry, 'a');
    new KinesisMetrics(registry, 'b'); // a second stream on the same registry: no double registration
  });

  it('names only sluice_<broker>_<thing> and refuses other names', () => {
    const metrics = BrokerMetrics.for(new Registry(), 'kinesis');
    expect(metrics.name('shards_owned')).toBe('sluice_kinesis_shards_owned');
    expect(() => metrics.name('Shards-Owned')).toThrow(/metric name part/);
    expect(() => BrokerMetrics.for(new Registry(), 'Pub/Sub')).toThrow(/broker name/);
  });

  it('Kafka, Kinesis, Pub/Sub and HTTP: every series is sluice_<broker>_*, labelled broker, and present at 0 before any traffic', async () => {
    const registry = new Registry();
    PubSubMetrics.for(registry);
    HttpMetrics.for(registry);
    KafkaMetrics.for(registry);
    new KinesisMetrics(registry, 'orders');
    const families = await scrape(registry);
    for (const { name, values } of families) {
      const broker = /^sluice_(pubsub|http|kinesis|kafka)_[a-z0-9_]+$/.exec(name)?.[1];
      expect(broker, name).toBeDefined();
      for (const value of values) expect(value.labels.broker, name).toBe(broker);
    }
    // Series that depend on a value only traffic brings (a status code, a shard) appear with it.
    const byTraffic = new Set([
      'sluice_http_requests_total',
      'sluice_http_request_duration_seconds',
      'sluice_kinesis_millis_behind_latest',
    ]);
    const empty = families.filter(({ name, values }) => !byTraffic.has(name) && values.length === 0).map(({ name }) => name);
    expect(empty).toEqual([]);
    const text = await registry.metrics();
    expect(text).toMatch(/^sluice_pubsub_received_total\{broker="pubsub"\} 0$/m);
    expect(text).toMatch(/^sluice_pubsub_copies_suppressed_total\{broker="pubsub",how="joined"\} 0$/m);
    expect(text).toMatch(/^sluice_http_events_total\{broker="http",outcome="rejected"\} 0$/m);
    expect(text).toMatch(/^sluice_kinesis_throttles_total\{broker="kinesis",stream="orders",operation="GetRecords"\} 0$/m);
    expect(text).toMatch(/^sluice_kinesis_lease_takeovers_total\{broker="kinesis",stream="orders"\} 0$/m);
    expect(text).toMatch(/^sluice_kafka_rebalances_total\{broker="kafka"\} 0$/m);
    expect(text).toMatch(/^sluice_kafka_connected\{broker="kafka"\} 0$/m);
    expect(text).toMatch(/^sluice_http_connections_refused_total\{broker="http"\} 0$/m);
    expect(families).toHaveLength(22); // pubsub 9, http 5, kinesis 6, kafka 2
  });

  it('the core series follow the other half of the rule: sluice_<concern>_*, outside every broker namespace, labelled broker', async () => {
    const registry = new Registry();
    const { pipeline } = memoryPipeline(new MemoryBroker(), () => undefined);
    registerPipelineMetrics(registry, pipeline, 'memory');
    installFaults({ ...NO_FAULTS, enabled: true }, silent, registry, 'memory', new AbortController().signal);
    new ForwardMetrics(registry, 'kafka').published(1, 0.01, true);
    const brokerNamespace = new RegExp(`^sluice_(${brokerTypes().join('|')})_`);
    const families = await scrape(registry);
    expect(families.length).toBeGreaterThan(15);
    for (const { name, values } of families) {
      expect(name).toMatch(/^sluice_[a-z][a-z0-9_]*$/);
      expect(name).not.toMatch(brokerNamespace);
      for (const value of values) expect(value.labels.broker, name).toBeTruthy();
    }
  });

  it('sampledCounter reads its counts when scraped, with or without one label more', async () => {
    const registry = new Registry();
    const metrics = BrokerMetrics.for(registry, 'memory');
    let plain = 0;
    const byHow = { joined: 0, acked: 0 };
    metrics.sampledCounter('plain_total', 'A plain count.', () => plain);
    metrics.sampledCounter('by_how_total', 'A count per how.', () => byHow, 'how');
    expect(await registry.metrics()).toMatch(/^sluice_memory_by_how_total\{broker="memory",how="acked"\} 0$/m);
    plain = 3;
    byHow.joined = 2;
    const text = await registry.metrics();
    expect(text).toMatch(/^sluice_memory_plain_total\{broker="memory"\} 3$/m);
    expect(text).toMatch(/^sluice_memory_by_how_total\{broker="memory",how="joined"\} 2$/m);
    expect(text).toMatch(/^sluice_memory_by_how_total\{broker="memory",how="acked"\} 0$/m);
  });
});
