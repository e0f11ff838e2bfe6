// The Kafka metrics a dashboard or an autoscaler relies on, read from the injected registry: the
// shared lag series per partition (events and age) that fall to zero once everything is acked
// and committed, commits, and the adapter's own sluice_kafka_* series (membership, rebalances).
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Publisher } from '../../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../../src/broker/tooling.ts';
import { registerSourceMetrics } from '../../../src/metrics/source-metrics.ts';
import { CollectingSink } from '../../contract/universal-suite.ts';
import { uniqueName } from '../brokers.ts';
import { describeWithKafka, kafkaTestAdapter } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithKafka('kafka metrics', (endpoint) => {
  const topic = uniqueName('metrics');
  let admin: BrokerAdmin;
  let publisher: Publisher;

  beforeAll(async () => {
    const adapter = kafkaTestAdapter(endpoint, { topics: [topic] });
    admin = adapter.createAdmin();
    await admin.createDestination(topic, { partitions: 2 });
    publisher = adapter.createPublisher();
    await publisher.connect();
  });

  afterAll(async () => {
    await publisher?.close();
    await admin?.deleteDestination(topic).catch(() => undefined);
    await admin?.close();
  });

  async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    const metric = await registry.getSingleMetric(name)!.get();
    return metric.values.find((sample) => Object.entries(labels).every(([key, wanted]) => String(sample.labels[key]) === wanted))?.value;
  }

  async function until(what: string, deadline: number, condition: () => Promise<boolean>): Promise<void> {
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }

  it('reports lag per partition, commits and membership on the injected registry', async () => {
    const registry = new Registry();
    const adapter = kafkaTestAdapter(endpoint, { topics: [topic], group: `${topic}-group` }, registry);
    // The adapter's own series exist, at 0, before any source starts (the one metrics idiom).
    expect(await value(registry, 'sluice_kafka_connected', { broker: 'kafka' })).toBe(0);
    expect(await value(registry, 'sluice_kafka_rebalances_total', { broker: 'kafka' })).toBe(0);
    const published = Date.now();
    await publisher.publish(
      topic,
      Array.from({ length: 100 }, (_, n) => ({ key: 'same', payload: Buffer.from(String(n)) })),
    );
    const source = adapter.createSource();
    registerSourceMetrics(registry, 'kafka', source); // as the composition root does
    const sink = new CollectingSink(10); // 10 events at a time, acked by the test
    await source.start(sink);
    expect(await value(registry, 'sluice_kafka_connected', { broker: 'kafka' })).toBe(1);

    const deadline = Date.now() + 30_000;
    while (sink.events.length < 10) {
      if (Date.now() > deadline) throw new Error('no delivery');
      await sleep(20);
    }
    const partition = sink.events[0]!.position.partition;
    const series = { broker: 'kafka', source: topic, partition };
    for (const event of sink.events.slice(0, 5)) event.ack();
    // 100 records in the partition, the first 5 acked, then committed: 95 behind.
    await until('the commit of the first 5', deadline, async () => (await value(registry, 'sluice_source_lag_events', series)) === 95);
    // The oldest unacked record (the 6th) is as old as the publish.
    const age = (await value(registry, 'sluice_source_lag_seconds', series))!;
    expect(age).toBeGreaterThan(0);
    expect(age).toBeLessThanOrEqual((Date.now() - published) / 1000 + 1);

    while (new Set(sink.events.map((event) => event.id)).size < 100) {
      for (const event of sink.events) event.ack();
      if (Date.now() > deadline) throw new Error(`only ${sink.events.length} of 100 delivered`);
      await sleep(20);
    }
    for (const event of sink.events) event.ack();
    await until('lag to reach 0', deadline, async () => (await value(registry, 'sluice_source_lag_events', series)) === 0);
    expect(await value(registry, 'sluice_source_lag_seconds', series)).toBe(0);
    expect(await value(registry, 'sluice_source_commits_total', { broker: 'kafka', source: topic })).toBeGreaterThan(0);
    expect(await value(registry, 'sluice_source_commit_errors_total', { broker: 'kafka', source: topic })).toBe(0);
    await source.close();
    expect(await value(registry, 'sluice_kafka_connected', { broker: 'kafka' })).toBe(0);
    const text = await registry.metrics();
    expect(text).toContain('sluice_kafka_rebalances_total{broker="kafka"} 0');
  });
});
