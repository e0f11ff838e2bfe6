import { afterEach, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { Sluice } from '../../../src/app.ts';
import type { SourceEvent } from '../../../src/broker/contract.ts';
import { describeWithBroker } from '../brokers.ts';
import { pubsubTestAdapter, pubsubTestConfig, rawClient, receive, sluiceConfig, subscribe, testLogger, until } from './helpers.ts';

const n = (event: SourceEvent): number => (JSON.parse(event.payload.toString()) as { n: number }).n;

describeWithBroker('pubsub', 'pubsub dead letters', (endpoint) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it("publishes poison events to Sluice's dead-letter topic <subscription>.dlq, with the error", async () => {
    const config = pubsubTestConfig(endpoint, { subscriptionSettings: { messageOrdering: true } });
    const adapter = pubsubTestAdapter(config);
    const admin = adapter.createAdmin();
    await admin.createDestination(config.topic);
    const client = rawClient(config);
    const dlqTopic = `${config.subscription}.dlq`;
    await client.createTopic(dlqTopic);
    const dlqReader = await subscribe(client, dlqTopic);
    cleanups.push(async () => {
      await client.subscription(dlqReader).delete();
      await client.topic(dlqTopic).delete();
      await client.close();
      await admin.deleteDestination(config.topic);
      await admin.close();
    });

    const registry = new Registry();
    const processed = new Set<number>();
    const sluice = await Sluice.create(
      await sluiceConfig(config, {
        deadLetter: { type: 'broker' },
        pool: { size: 4, orderByKey: true },
        handler: { retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 10 } },
      }),
      testLogger(),
      {
        registry,
        handler: (event) => {
          const value = n(event);
          if (value % 10 === 3) throw new Error(`poison event ${value}`);
          processed.add(value);
        },
      },
    );
    await sluice.start();
    cleanups.push(() => sluice.stop());

    const publisher = adapter.createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    await publisher.publish(
      config.topic,
      Array.from({ length: 30 }, (_, i) => ({
        key: `k${i % 3}`,
        payload: Buffer.from(JSON.stringify({ n: i })),
        headers: { origin: 'test' },
      })),
    );

    const letters = await receive(client, dlqReader, 3, 30_000);
    await until(() => processed.size >= 27 && sluice.pipeline.stats.processed.dead_lettered >= 3, 30_000, 'the good events');
    const byN = new Map(letters.map((message) => [(JSON.parse(message.data.toString()) as { n: number }).n, message]));
    expect([...byN.keys()].sort((a, b) => a - b)).toEqual([3, 13, 23]);
    for (const [value, message] of byN) {
      expect(message.attributes['sluice-error']).toBe(`poison event ${value}`);
      expect(message.attributes['sluice-attempts']).toBe('2');
      expect(message.attributes['sluice-source']).toBe(config.subscription);
      expect(message.attributes.origin).toBe('test');
      expect(message.orderingKey).toBe(`k${value % 3}`);
    }
    expect(sluice.pipeline.stats.processed.failed).toBe(0);
  });

  it("lets the subscription's own dead-letter policy forward a message after maxDeliveryAttempts nacks", async () => {
    // Unordered: the emulator's stream fails (status UNKNOWN) instead of forwarding when the
    // subscription is ordered; the policy itself is the same either way.
    const config = pubsubTestConfig(endpoint, { subscriptionSettings: { messageOrdering: false, maxDeliveryAttempts: 5 } });
    const deadLetterTopic = `${config.topic}-dead`;
    const withPolicy = { ...config, subscriptionSettings: { ...config.subscriptionSettings, deadLetterTopic } };
    const adapter = pubsubTestAdapter(withPolicy);
    const admin = adapter.createAdmin();
    await admin.createDestination(config.topic); // topic, dead-letter topic, subscription with the policy
    const client = rawClient(config);
    const deadReader = await subscribe(client, deadLetterTopic);
    cleanups.push(async () => {
      await client.subscription(deadReader).delete();
      await client.close();
      await admin.deleteDestination(config.topic);
      await admin.close();
    });

    const attempts: number[] = [];
    const sluice = await Sluice.create(
      await sluiceConfig(withPolicy, { handler: { retry: { maxAttempts: 1 } } }), // deadLetter none: a failure is a nack
      testLogger(),
      {
        registry: new Registry(),
        handler: (event) => {
          attempts.push(event.attempt);
          throw new Error('always fails');
        },
      },
    );
    await sluice.start();
    cleanups.push(() => sluice.stop());
    const publisher = adapter.createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    await publisher.publish(config.topic, [{ payload: Buffer.from('{"n":1}') }]);

    const [letter] = await receive(client, deadReader, 1, 30_000);
    expect(letter!.data.toString()).toBe('{"n":1}');
    expect(letter!.attributes.CloudPubSubDeadLetterSourceDeliveryCount).toBe('5');
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
  });
});
