// KIP-848's consumer group protocol (groupProtocol: consumer, @platformatic/kafka, Kafka 4.x):
// the broker assigns partitions and moves them incrementally as members come and go. Three
// pipelines join and leave one group while events are produced; together they lose nothing.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OutgoingEvent, Publisher, SourceEvent } from '../../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../../src/broker/tooling.ts';
import { Pipeline } from '../../../src/core/pipeline.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { kafkaTestAdapter, testLogger } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithBroker('kafka', 'kafka consumer protocol (KIP-848, platformatic)', (broker) => {
  const endpoint = { ...broker, client: 'platformatic' as const };
  const topic = uniqueName('kip848');
  const group = `${topic}-group`;
  let admin: BrokerAdmin;
  let publisher: Publisher;
  const pipelines: Pipeline[] = [];

  beforeAll(async () => {
    const adapter = kafkaTestAdapter(endpoint);
    admin = adapter.createAdmin();
    await admin.createDestination(topic, { partitions: 6 });
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

  function member(name: string, counts: Map<number, number>) {
    const registry = new Registry();
    const adapter = kafkaTestAdapter(endpoint, { topics: [topic], group, groupProtocol: 'consumer', clientId: `sluice-${name}` }, registry);
    const processed = { count: 0 };
    const pipeline = new Pipeline(
      {
        broker: 'kafka',
        queue: { maxEvents: 400, maxBytes: 1 << 20, policy: 'block' },
        pool: { size: 8, orderByKey: false },
        shutdownTimeoutMs: 10_000,
        stallTimeoutMs: 60_000,
      },
      {
        source: adapter.createSource(),
        handler: async (event) => {
          const n = seq(event);
          await sleep(1); // keep events in flight when partitions move
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

  it('shares the partitions as members join and leave under load, losing nothing', async () => {
    // Produced until the last member left: how many depends on how fast partitions move.
    let produced = 0;
    let stopProducing = false;
    const producing = (async () => {
      while (!stopProducing) {
        const batch: OutgoingEvent[] = Array.from({ length: 150 }, (_, i) => ({
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
    await until('a to process 1,500 events', 60_000, () => a.processed.count >= 1_500);
    const b = member('b', counts);
    await b.pipeline.start();
    await until('b to process 1,000 events', 60_000, () => b.processed.count >= 1_000);
    const c = member('c', counts);
    await c.pipeline.start();
    await until('c to process 1,000 events', 60_000, () => c.processed.count >= 1_000);
    await b.pipeline.stop();
    const aBefore = a.processed.count;
    const cBefore = c.processed.count;
    await until('a and c to go on after b left', 60_000, () => a.processed.count > aBefore + 500 && c.processed.count > cBefore + 500);
    await c.pipeline.stop();
    await sleep(1_000);
    stopProducing = true;
    await producing;

    await until(`all ${produced} events processed`, 90_000, () => counts.size >= produced);
    const missing = Array.from({ length: produced }, (_, n) => n).filter((n) => !counts.has(n));
    expect(missing).toEqual([]);
    expect(a.pipeline.health().ready, a.pipeline.health().detail).toBe(true);
    expect(a.pipeline.health().detail).toContain('6 partition(s)');
    const duplicates = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
    console.log(
      `kafka consumer protocol: ${produced} events, a ${a.processed.count}, b ${b.processed.count}, c ${c.processed.count}, ${duplicates} duplicates`,
    );
    await a.pipeline.stop();
  }, 240_000);
});
