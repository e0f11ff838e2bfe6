// Two Sluice pipelines in one consumer group: the second joins mid-stream (the partitions are
// shared out again) and later leaves (they come back). Together they lose nothing.
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OutgoingEvent, Publisher, SourceEvent } from '../../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../../src/broker/tooling.ts';
import { Pipeline } from '../../../src/core/pipeline.ts';
import { uniqueName } from '../brokers.ts';
import { describeWithKafka, kafkaTestAdapter, testLogger } from './helpers.ts';

const EVENTS = 12_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithKafka('kafka consumer group rebalance', (endpoint) => {
  const topic = uniqueName('rebalance');
  const group = `${topic}-group`;
  let admin: BrokerAdmin;
  let publisher: Publisher;
  const pipelines: Pipeline[] = [];

  beforeAll(async () => {
    const adapter = kafkaTestAdapter(endpoint, { topics: [topic], group });
    admin = adapter.createAdmin();
    await admin.createDestination(topic, { partitions: 4 });
    publisher = adapter.createPublisher();
    await publisher.connect();
  });

  afterAll(async () => {
    for (const pipeline of pipelines) await pipeline.stop().catch(() => undefined);
    await publisher?.close();
    await admin?.deleteDestination(topic).catch(() => undefined);
    await admin?.close();
  });

  const seq = (event: SourceEvent) => (JSON.parse(event.payload.toString()) as { n: number }).n;

  /** A pipeline of the group whose handler counts what it processed, by event number. */
  function member(
    name: string,
    counts: Map<number, number>,
    options: {
      topic?: string;
      group?: string;
      pool?: number;
      handler?: (n: number) => Promise<void>;
      config?: Record<string, unknown>;
    } = {},
  ) {
    const registry = new Registry();
    const adapter = kafkaTestAdapter(
      endpoint,
      { topics: [options.topic ?? topic], group: options.group ?? group, clientId: `sluice-${name}`, ...options.config },
      registry,
    );
    const processed = { count: 0 };
    const pipeline = new Pipeline(
      {
        broker: 'kafka',
        queue: { maxEvents: 400, maxBytes: 1 << 20, policy: 'block' },
        pool: { size: options.pool ?? 8, orderByKey: false },
        shutdownTimeoutMs: 10_000,
        stallTimeoutMs: 60_000,
      },
      {
        source: adapter.createSource(),
        handler: async (event) => {
          const n = seq(event);
          if (options.handler) await options.handler(n);
          else await sleep(1); // keep events in flight when partitions are revoked
          counts.set(n, (counts.get(n) ?? 0) + 1);
          processed.count++;
        },
        logger: testLogger(),
      },
    );
    pipelines.push(pipeline);
    return { pipeline, registry, processed };
  }

  async function until(what: string, ms: number, condition: () => boolean): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await sleep(50);
    }
  }

  async function rebalances(registry: Registry): Promise<number> {
    const metric = await registry.getSingleMetric('sluice_kafka_rebalances_total')!.get();
    return metric.values[0]?.value ?? 0;
  }

  it('shares partitions with a member that joins and leaves mid-stream, losing nothing', async () => {
    let produced = 0;
    const producing = (async () => {
      while (produced < EVENTS) {
        const batch: OutgoingEvent[] = Array.from({ length: 200 }, (_, i) => ({
          key: `key-${(produced + i) % 97}`,
          payload: Buffer.from(JSON.stringify({ n: produced + i })),
        }));
        await publisher.publish(topic, batch);
        produced += batch.length;
        await sleep(40);
      }
    })();

    const counts = new Map<number, number>();
    const a = member('a', counts);
    await a.pipeline.start();
    await until('member a to process 2,000 events', 60_000, () => a.processed.count >= 2_000);

    const b = member('b', counts);
    await b.pipeline.start();
    await until('member b to process 1,000 events', 60_000, () => b.processed.count >= 1_000);
    expect(a.pipeline.health().ready, a.pipeline.health().detail).toBe(true);
    const aBeforeLeave = a.processed.count;
    await b.pipeline.stop();

    await producing;
    await until(`all ${EVENTS} events processed by a or b`, 90_000, () => counts.size >= EVENTS);
    expect(a.processed.count, 'a took the partitions back after b left').toBeGreaterThan(aBeforeLeave);
    const missing = Array.from({ length: EVENTS }, (_, n) => n).filter((n) => !counts.has(n));
    expect(missing).toEqual([]);
    // a went through two rebalances (b joined, b left); b through its revoke on leaving at most.
    expect(await rebalances(a.registry)).toBeGreaterThanOrEqual(2);
    const duplicates = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
    console.log(
      `kafka rebalance: ${EVENTS} events, a processed ${a.processed.count}, b processed ${b.processed.count}, ${duplicates} duplicates`,
    );
    await a.pipeline.stop();
  });

  it('releases partitions whose events are stuck after revokeTimeoutMs; their events are delivered again', async () => {
    const stuckTopic = uniqueName('stuck');
    const stuckGroup = `${stuckTopic}-group`;
    await admin.createDestination(stuckTopic, { partitions: 2 });
    try {
      await publisher.publish(
        stuckTopic,
        Array.from({ length: 20 }, (_, n) => ({ key: `key-${n}`, payload: Buffer.from(JSON.stringify({ n })) })),
      );
      // a's handler holds the first delivery of every event until the gate opens; later
      // deliveries (after the rebalance) go through.
      let openGate!: () => void;
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      const heldOnce = new Set<number>();
      const counts = new Map<number, number>();
      const config = { rebalanceTimeoutMs: 60_000, revokeTimeoutMs: 1_000 };
      const a = member('a', counts, {
        topic: stuckTopic,
        group: stuckGroup,
        pool: 32,
        config,
        handler: async (n) => {
          if (heldOnce.has(n)) return;
          heldOnce.add(n);
          await gate;
        },
      });
      await a.pipeline.start();
      await until('a to hold all 20 events', 30_000, () => heldOnce.size === 20);

      const b = member('b', counts, { topic: stuckTopic, group: stuckGroup, config });
      await b.pipeline.start();
      // With the gate still closed: b took its partitions over, a got its own back, and every
      // event was processed (a second time for those a held). Far less than rebalanceTimeoutMs.
      await until('all 20 events processed while a still holds its first deliveries', 30_000, () => counts.size === 20);
      expect(b.processed.count).toBeGreaterThan(0);
      openGate();
      await b.pipeline.stop();
      await a.pipeline.stop();

      // Everything was committed in the end: the late acks of the held events did not get in the way.
      const kafka = new Kafka({ clientId: 'sluice-offsets', brokers: endpoint.brokers, logLevel: logLevel.NOTHING });
      const offsetsAdmin = kafka.admin();
      await offsetsAdmin.connect();
      try {
        const [committed] = await offsetsAdmin.fetchOffsets({ groupId: stuckGroup, topics: [stuckTopic] });
        const ends = await offsetsAdmin.fetchTopicOffsets(stuckTopic);
        for (const { partition, high } of ends) {
          expect(committed!.partitions.find((p) => p.partition === partition)?.offset, `partition ${partition}`).toBe(high);
        }
      } finally {
        await offsetsAdmin.disconnect();
      }
    } finally {
      await admin.deleteDestination(stuckTopic).catch(() => undefined);
    }
  });
});
