// The Kafka metrics a dashboard relies on, read from the injected registry: lag per partition
// that falls to zero once everything is acked, commits, and the connection gauge.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BrokerAdmin, Publisher } from '../../../src/broker/contract.ts';
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

  it('reports lag per partition, commits and membership on the injected registry', async () => {
    const registry = new Registry();
    const adapter = kafkaTestAdapter(endpoint, { topics: [topic], group: `${topic}-group` }, registry);
    await publisher.publish(
      topic,
      Array.from({ length: 100 }, (_, n) => ({ key: 'same', payload: Buffer.from(String(n)) })),
    );
    const source = adapter.createSource();
    const sink = new CollectingSink(10); // 10 events at a time, acked by the test
    await source.start(sink);
    expect(await value(registry, 'sluice_broker_connected', { broker: 'kafka' })).toBe(1);

    const deadline = Date.now() + 30_000;
    while (sink.events.length < 10) {
      if (Date.now() > deadline) throw new Error('no delivery');
      await sleep(20);
    }
    const partition = sink.events[0]!.position.partition;
    for (const event of sink.events.slice(0, 5)) event.ack();
    // 100 records in the partition, the first 5 acked: 95 behind.
    expect(await value(registry, 'sluice_consumer_lag', { broker: 'kafka', partition })).toBe(95);

    while (new Set(sink.events.map((event) => event.id)).size < 100) {
      for (const event of sink.events) event.ack();
      if (Date.now() > deadline) throw new Error(`only ${sink.events.length} of 100 delivered`);
      await sleep(20);
    }
    for (const event of sink.events) event.ack();
    while (
      (await value(registry, 'sluice_offset_commits_total')) === 0 ||
      (await value(registry, 'sluice_consumer_lag', { partition })) !== 0
    ) {
      if (Date.now() > deadline) throw new Error('lag did not reach 0 / nothing committed');
      await sleep(50);
    }
    await source.close();
    expect(await value(registry, 'sluice_broker_connected', { broker: 'kafka' })).toBe(0);
    const text = await registry.metrics();
    expect(text).toContain('sluice_rebalances_total{broker="kafka"} 0');
  });
});
