// Order through the whole pipeline on Kafka: each partition's events reach a single worker in
// offset order, and with pool.orderByKey each key's events are handled one at a time in publish
// order while many keys run in parallel.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OutgoingEvent, Publisher, SourceEvent } from '../../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../../src/broker/tooling.ts';
import { Pipeline } from '../../../src/core/pipeline.ts';
import { uniqueName } from '../brokers.ts';
import { describeWithKafka, kafkaTestAdapter, testLogger } from './helpers.ts';

const EVENTS = 3_000;
const KEYS = 30;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithKafka('kafka order through the pipeline', (endpoint) => {
  const topic = uniqueName('order');
  let admin: BrokerAdmin;
  let publisher: Publisher;
  const pipelines: Pipeline[] = [];

  beforeAll(async () => {
    const adapter = kafkaTestAdapter(endpoint, { topics: [topic] });
    admin = adapter.createAdmin();
    await admin.createDestination(topic, { partitions: 3 });
    publisher = adapter.createPublisher();
    await publisher.connect();
    // Each key's events numbered 0, 1, 2… in publish order, published in several batches.
    const perKey = new Map<string, number>();
    const events: OutgoingEvent[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const key = `key-${(i * 7) % KEYS}`;
      const n = perKey.get(key) ?? 0;
      perKey.set(key, n + 1);
      events.push({ key, payload: Buffer.from(JSON.stringify({ key, n })) });
    }
    for (let i = 0; i < EVENTS; i += 250) await publisher.publish(topic, events.slice(i, i + 250));
  });

  afterAll(async () => {
    for (const pipeline of pipelines) await pipeline.stop().catch(() => undefined);
    await publisher?.close();
    await admin?.deleteDestination(topic).catch(() => undefined);
    await admin?.close();
  });

  function run(pool: { size: number; orderByKey: boolean }, handler: (event: SourceEvent) => Promise<void>) {
    const adapter = kafkaTestAdapter(endpoint, { topics: [topic], group: uniqueName('order-group') });
    const pipeline = new Pipeline(
      {
        broker: 'kafka',
        queue: { maxEvents: 200, maxBytes: 1 << 20, policy: 'block' },
        pool,
        shutdownTimeoutMs: 5_000,
        stallTimeoutMs: 60_000,
      },
      { source: adapter.createSource(), handler, logger: testLogger() },
    );
    pipelines.push(pipeline);
    return pipeline;
  }

  async function until(what: string, condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }

  it('hands each partition to the handler in offset order (one worker)', async () => {
    const offsets = new Map<string, number[]>();
    let handled = 0;
    const pipeline = run({ size: 1, orderByKey: false }, async (event) => {
      const list = offsets.get(event.position.partition) ?? [];
      list.push(Number(event.position.offset));
      offsets.set(event.position.partition, list);
      handled++;
    });
    await pipeline.start();
    await until(`${EVENTS} events`, () => handled >= EVENTS);
    await pipeline.stop();
    expect(offsets.size).toBe(3);
    for (const [partition, list] of offsets) {
      expect(list, `partition ${partition}`).toEqual(Array.from({ length: list.length }, (_, i) => i));
    }
    expect(pipeline.stats.processed.success).toBe(EVENTS);
  });

  it('with pool.orderByKey, runs each key one event at a time in publish order across 8 workers', async () => {
    const lastByKey = new Map<string, number>();
    const busyKeys = new Set<string>();
    const violations: string[] = [];
    let handled = 0;
    let maxConcurrent = 0;
    const pipeline = run({ size: 8, orderByKey: true }, async (event) => {
      const { key, n } = JSON.parse(event.payload.toString()) as { key: string; n: number };
      if (busyKeys.has(key)) violations.push(`${key} ran twice at once`);
      busyKeys.add(key);
      maxConcurrent = Math.max(maxConcurrent, busyKeys.size);
      const previous = lastByKey.get(key) ?? -1;
      if (n !== previous + 1) violations.push(`${key}: ${n} after ${previous}`);
      lastByKey.set(key, n);
      await sleep(Math.random() < 0.1 ? 2 : 0);
      busyKeys.delete(key);
      handled++;
    });
    await pipeline.start();
    await until(`${EVENTS} events`, () => handled >= EVENTS);
    await pipeline.stop();
    expect(violations).toEqual([]);
    expect(maxConcurrent, 'keys ran in parallel').toBeGreaterThan(1);
    expect(lastByKey.size).toBe(KEYS);
  });
});
