// What a source reads: topics matching a pattern (Sluice's own dead-letter topics, as
// deadLetter.destination names them, excluded), and where a new group starts (`startFrom: latest`
// skips the backlog).
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Publisher } from '../../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../../src/broker/tooling.ts';
import { configSchema, type SluiceConfig } from '../../../src/config/schema.ts';
import { deadLetterTopicsOf } from '../../../src/dead-letter/dead-letter-topics.ts';
import { createAdapter } from '../../../adapters/kafka/module.ts';
import { CollectingSink } from '../../contract/universal-suite.ts';
import { uniqueName } from '../brokers.ts';
import { describeWithKafka, kafkaTestAdapter, kafkaTestConfig, testLogger } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithKafka('kafka subscriptions', (endpoint) => {
  const prefix = uniqueName('sub').replace(/-/g, '_');
  const topics = [`${prefix}_orders`, `${prefix}_payments`, `${prefix}_orders.dlq`, `other_${prefix}`, `dead-${prefix}_orders`];
  let admin: BrokerAdmin;
  let publisher: Publisher;

  beforeAll(async () => {
    const adapter = kafkaTestAdapter(endpoint);
    admin = adapter.createAdmin();
    for (const topic of topics) await admin.createDestination(topic, { partitions: 1 });
    publisher = adapter.createPublisher();
    await publisher.connect();
    for (const topic of topics) await publisher.publish(topic, [{ key: 'k', payload: Buffer.from(topic) }]);
  });

  afterAll(async () => {
    await publisher?.close();
    for (const topic of topics) await admin?.deleteDestination(topic).catch(() => undefined);
    await admin?.close();
  });

  async function until(what: string, condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  /** Reads by `topicPattern` with the dead-letter exclusion the composition root derives from `deadLetter`. */
  async function readByPattern(topicPattern: string, deadLetter: Record<string, unknown>, expected: string[]): Promise<string> {
    const config = configSchema.parse({ broker: { type: 'kafka' }, deadLetter }) as SluiceConfig;
    const adapter = createAdapter(kafkaTestConfig(endpoint, { topicPattern, group: uniqueName('pattern') }), {
      logger: testLogger(),
      registry: new Registry(),
      deadLetterTopics: deadLetterTopicsOf(config),
    });
    const source = adapter.createSource();
    const sink = new CollectingSink(10, true);
    await source.start(sink);
    try {
      await until('every matching topic', () => new Set(sink.events.map((event) => event.source)).size >= expected.length);
      await sleep(500);
      expect(new Set(sink.events.map((event) => event.source))).toEqual(new Set(expected));
      return source.health().detail ?? '';
    } finally {
      await source.close();
    }
  }

  it('reads the topics matching topicPattern, not their dead-letter topics ({source}.dlq) nor other topics', async () => {
    const detail = await readByPattern(`^${prefix}_`, { type: 'broker' }, [`${prefix}_orders`, `${prefix}_payments`]);
    expect(detail).toContain('2 partition(s)');
  });

  it('with deadLetter.destination dead-{source}, reads a matching x.dlq topic and leaves out dead-x', async () => {
    await readByPattern(`${prefix}_`, { type: 'broker', destination: 'dead-{source}' }, [
      `${prefix}_orders`,
      `${prefix}_payments`,
      `${prefix}_orders.dlq`,
    ]);
  });

  it('with startFrom: latest, a new group skips the backlog and reads what comes after', async () => {
    const topic = topics[0]!;
    const adapter = kafkaTestAdapter(endpoint, { topics: [topic], group: uniqueName('latest'), startFrom: 'latest' });
    const source = adapter.createSource();
    const sink = new CollectingSink(10, true);
    await source.start(sink);
    try {
      // The end is resolved at the group's first fetch: publish until something arrives.
      const deadline = Date.now() + 30_000;
      while (sink.events.length === 0) {
        if (Date.now() > deadline) throw new Error('nothing published after the start arrived');
        await publisher.publish(topic, [{ key: 'k', payload: Buffer.from('after-start') }]);
        await sleep(200);
      }
      expect(sink.payloads().every((payload) => payload === 'after-start')).toBe(true);
    } finally {
      await source.close();
    }
  });
});
