// Kafka smoke test: the local broker takes records on a multi-partition topic and gives
// them back, keys, values and headers intact, to a consumer group.
import { Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { withTimeout } from '../wait.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

describeWithBroker('kafka', 'kafka smoke', (endpoint) => {
  const kafka = new Kafka({ clientId: 'sluice-smoke', brokers: endpoint.brokers, logLevel: logLevel.ERROR });
  const admin = kafka.admin();
  const topic = uniqueName('smoke');
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;

  beforeAll(async () => {
    await admin.connect();
    const created = await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    expect(created).toBe(true);
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('creates a topic with the partitions asked for', async () => {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]?.partitions).toHaveLength(3);
  });

  it('round-trips keyed records through a consumer group', async () => {
    const sent = Array.from({ length: 12 }, (_, i) => ({
      key: `key-${i % 4}`,
      value: JSON.stringify({ seq: i }),
      headers: { 'x-sluice-seq': String(i) },
    }));
    producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: sent });

    consumer = kafka.consumer({ groupId: uniqueName('smoke-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { partition: number; key: string; value: string; seq: string }[] = [];
    const all = new Promise<void>((resolve) => {
      void consumer!.run({
        eachMessage: async ({ partition, message }) => {
          received.push({
            partition,
            key: message.key!.toString(),
            value: message.value!.toString(),
            seq: message.headers!['x-sluice-seq']!.toString(),
          });
          if (received.length === sent.length) resolve();
        },
      });
    });
    await withTimeout(all, 60_000, () => `got ${received.length}/${sent.length} records`);

    expect(received.map((r) => r.value).sort()).toEqual(sent.map((m) => m.value).sort());
    for (const r of received) expect(r.value).toBe(JSON.stringify({ seq: Number(r.seq) }));
    // The same key always lands on the same partition, in the order it was sent.
    const byKey = new Map<string, typeof received>();
    for (const r of received) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    expect([...byKey.keys()].sort()).toEqual(['key-0', 'key-1', 'key-2', 'key-3']);
    for (const records of byKey.values()) {
      expect(new Set(records.map((r) => r.partition)).size).toBe(1);
      const seqs = records.map((r) => Number(r.seq));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });
});
