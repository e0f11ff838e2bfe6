// Poison events through the real Sluice app on Kafka: a handler that always throws and a payload
// that is not JSON (handler.decode: json) both end up in `<topic>.dlq` with the error in their
// headers, and the events after them are processed.
import { Kafka, logLevel } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Sluice } from '../../../src/app.ts';
import type { OutgoingEvent, Publisher } from '../../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../../src/broker/tooling.ts';
import { validateConfig } from '../../../src/config/load.ts';
import { uniqueName } from '../brokers.ts';
import { describeWithKafka, kafkaTestAdapter, testLogger } from './helpers.ts';

const EVENTS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithKafka('kafka dead letters through the app', (endpoint) => {
  const topic = uniqueName('dlq');
  let admin: BrokerAdmin;
  let publisher: Publisher;
  let sluice: Sluice | undefined;

  beforeAll(async () => {
    const adapter = kafkaTestAdapter(endpoint, { topics: [topic] });
    admin = adapter.createAdmin();
    await admin.createDestination(topic, { partitions: 2 });
    publisher = adapter.createPublisher();
    await publisher.connect();
  });

  afterAll(async () => {
    await sluice?.stop().catch(() => undefined);
    await publisher?.close();
    await admin?.deleteDestination(topic).catch(() => undefined);
    await admin?.deleteDestination(`${topic}.dlq`).catch(() => undefined);
    await admin?.close();
  });

  it('dead-letters a failing event and an undecodable payload to <topic>.dlq and goes on', async () => {
    const config = await validateConfig({
      broker: {
        type: 'kafka',
        kafka: {
          brokers: endpoint.brokers,
          client: endpoint.client,
          topics: [topic],
          group: `${topic}-group`,
          commitIntervalMs: 100,
          fetch: { maxWaitTimeMs: 100 },
        },
      },
      handler: { decode: 'json', timeoutMs: 5_000, retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 } },
      deadLetter: { type: 'broker' },
      metrics: { enabled: false },
      log: { level: 'silent', summaryIntervalMs: 0 },
    });
    const handled = new Set<number>();
    const handler = (_event: unknown, context: { value?: unknown }) => {
      const value = context.value as { n: number; poison?: boolean };
      if (value.poison) throw new Error(`poisoned event ${value.n}`);
      handled.add(value.n);
    };
    sluice = await Sluice.create(config, testLogger(), { registry: new Registry(), handler });
    await sluice.start();

    const events: OutgoingEvent[] = Array.from({ length: EVENTS }, (_, n) => ({
      key: 'one-key', // one partition: the events after the poison ones come after them
      payload: Buffer.from(n === 60 ? '{"n": 60, not json' : JSON.stringify(n === 30 ? { n, poison: true } : { n })),
      headers: { 'x-n': String(n) },
    }));
    await publisher.publish(topic, events);

    const deadline = Date.now() + 60_000;
    while (handled.size < EVENTS - 2 || sluice.pipeline.stats.processed.dead_lettered < 2) {
      if (Date.now() > deadline)
        throw new Error(`timed out: ${handled.size} handled, ${sluice.pipeline.stats.processed.dead_lettered} dead-lettered`);
      await sleep(50);
    }
    expect(handled.has(30)).toBe(false);
    expect(handled.has(60)).toBe(false);
    expect(handled.has(EVENTS - 1), 'the stream went on after the poison events').toBe(true);
    await sluice.stop();

    const letters = await readTopic(endpoint.brokers, `${topic}.dlq`, 2);
    const byN = new Map(letters.map((letter) => [letter.headers['x-n'], letter]));
    const thrown = byN.get('30')!;
    expect(thrown.value).toBe(JSON.stringify({ n: 30, poison: true }));
    expect(thrown.key).toBe('one-key');
    expect(thrown.headers['sluice-error']).toContain('poisoned event 30');
    expect(thrown.headers['sluice-attempts']).toBe('2');
    expect(thrown.headers['sluice-source']).toBe(topic);
    const undecodable = byN.get('60')!;
    expect(undecodable.value).toBe('{"n": 60, not json');
    expect(undecodable.headers['sluice-error']).toContain('not JSON');
    expect(undecodable.headers['sluice-error-type']).toBe('DecodeError');
    expect(undecodable.headers['sluice-attempts']).toBe('1');
    expect(undecodable.headers['sluice-offset']).toBe('60');
  });

  it('dead-letters to a separate broker: a memory source with its dead letters on Kafka', async () => {
    const { MemoryBroker } = await import('../../../adapters/memory/memory-broker.ts');
    const source = uniqueName('mem-src');
    const config = await validateConfig({
      broker: { type: 'memory', memory: { topic: source } },
      handler: { retry: { maxAttempts: 1 } },
      deadLetter: {
        type: 'broker',
        destination: '{source}.dlq',
        broker: { type: 'kafka', kafka: { brokers: endpoint.brokers, client: endpoint.client } },
      },
      metrics: { enabled: false },
      log: { level: 'silent', summaryIntervalMs: 0 },
    });
    const app = await Sluice.create(config, testLogger(), {
      registry: new Registry(),
      handler: (event: { payload: Buffer }) => {
        if (event.payload.toString() === 'poison') throw new Error('refused by the handler');
      },
    });
    await app.start();
    try {
      await MemoryBroker.shared('default').publish(source, [
        { key: 'a', payload: Buffer.from('fine') },
        { key: 'b', payload: Buffer.from('poison') },
      ]);
      const deadline = Date.now() + 60_000;
      while (app.pipeline.stats.completed < 2) {
        if (Date.now() > deadline) throw new Error('timed out waiting for the dead letter');
        await sleep(50);
      }
      expect(app.pipeline.stats.processed).toMatchObject({ success: 1, dead_lettered: 1 });
    } finally {
      await app.stop();
    }
    const [letter] = await readTopic(endpoint.brokers, `${source}.dlq`, 1);
    expect(letter!.value).toBe('poison');
    expect(letter!.key).toBe('b');
    expect(letter!.headers).toMatchObject({ 'sluice-error': 'refused by the handler', 'sluice-source': source });
    await admin.deleteDestination(`${source}.dlq`).catch(() => undefined);
  });
});

/** Reads `count` records of a topic from the beginning with a plain kafkajs consumer. */
async function readTopic(brokers: string[], topic: string, count: number) {
  const kafka = new Kafka({ clientId: 'sluice-dlq-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader'), maxWaitTimeInMs: 100 });
  const records: { key: string | undefined; value: string; headers: Record<string, string> }[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
        records.push({ key: message.key?.toString(), value: message.value!.toString(), headers });
      },
    });
    const deadline = Date.now() + 30_000;
    while (records.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out reading ${topic}: ${records.length}/${count} records`);
      await sleep(50);
    }
    return records;
  } finally {
    await consumer.disconnect();
  }
}
