// The publisher: gzip batches come back intact, and a publish larger than maxBatchBytes is split
// into several requests without breaking the order of a key.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BrokerAdmin } from '../../../src/broker/tooling.ts';
import { CollectingSink } from '../../contract/universal-suite.ts';
import { uniqueName } from '../brokers.ts';
import { describeWithKafka, kafkaTestAdapter } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithKafka('kafka publisher', (endpoint) => {
  const topic = uniqueName('publish');
  let admin: BrokerAdmin;

  beforeAll(async () => {
    admin = kafkaTestAdapter(endpoint).createAdmin();
    await admin.createDestination(topic, { partitions: 2 });
  });

  afterAll(async () => {
    await admin?.deleteDestination(topic).catch(() => undefined);
    await admin?.close();
  });

  it('publishes a gzip batch bigger than maxBatchBytes in order, with keys and headers', async () => {
    const adapter = kafkaTestAdapter(endpoint, {
      topics: [topic],
      group: uniqueName('publish'),
      producer: { compression: 'gzip', maxBatchBytes: 20_000 },
    });
    const publisher = adapter.createPublisher();
    const payload = (n: number) => Buffer.from(`${n}:`.padEnd(1_000, 'x'));
    // 300 events of ~1 KB with a 20 KB limit: at least 15 requests.
    await publisher.publish(
      topic,
      Array.from({ length: 300 }, (_, n) => ({ key: `key-${n % 3}`, payload: payload(n), headers: { n: String(n) } })),
    );
    await publisher.close();

    const source = adapter.createSource();
    const sink = new CollectingSink(100, true);
    await source.start(sink);
    try {
      const deadline = Date.now() + 30_000;
      while (sink.events.length < 300) {
        if (Date.now() > deadline) throw new Error(`${sink.events.length} of 300 arrived`);
        await sleep(20);
      }
      const lastByKey = new Map<string, number>();
      for (const event of sink.events) {
        const n = Number(event.headers.n);
        expect(event.payload.equals(payload(n))).toBe(true);
        expect(event.key).toBe(`key-${n % 3}`);
        expect(n).toBeGreaterThan(lastByKey.get(event.key!) ?? -1);
        lastByKey.set(event.key!, n);
      }
    } finally {
      await source.close();
    }
  });
});
