import { afterEach, expect, it } from 'vitest';
import { NotFoundError } from '../../../src/errors.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { pubsubTestAdapter, pubsubTestConfig, rawClient, receive, subscribe } from './helpers.ts';

describeWithBroker('pubsub', 'pubsub publisher', (endpoint) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it('reports a publish to a missing topic as a NotFoundError naming it; the same ordering key publishes once it exists', async () => {
    const config = pubsubTestConfig(endpoint);
    const publisher = pubsubTestAdapter(config).createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    const topic = uniqueName('missing');
    const events = [1, 2, 3].map((n) => ({ key: 'k', payload: Buffer.from(String(n)), headers: { n: String(n) } }));

    const error = await publisher.publish(topic, events).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain(topic);

    const client = rawClient(config);
    await client.createTopic(topic);
    const reader = await subscribe(client, topic);
    cleanups.push(async () => {
      await client.subscription(reader).delete();
      await client.topic(topic).delete();
      await client.close();
    });
    await publisher.publish(topic, events); // a failed ordered publish pauses its key in the client; it was resumed
    const received = await receive(client, reader, 3, 30_000);
    expect(received.map((message) => message.data.toString()).sort()).toEqual(['1', '2', '3']);
    expect(received.every((message) => message.orderingKey === 'k')).toBe(true);
    expect(received.map((message) => message.attributes.n).sort()).toEqual(['1', '2', '3']);
  });

  it('creates a missing topic on first publish with createResources (e.g. the dead-letter topic)', async () => {
    const config = pubsubTestConfig(endpoint, { createResources: true });
    const publisher = pubsubTestAdapter(config).createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    const topic = uniqueName('created');
    const client = rawClient(config);
    cleanups.push(async () => {
      await client.topic(topic).delete();
      await client.close();
    });
    await publisher.publish(topic, [{ payload: Buffer.from('x') }]);
    const [exists] = await client.topic(topic).exists();
    expect(exists).toBe(true);
  });

  it('with createResources, concurrent publishes to a missing topic all succeed (one creation, each tries again)', async () => {
    const config = pubsubTestConfig(endpoint, { createResources: true });
    const publisher = pubsubTestAdapter(config).createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    const topic = uniqueName('created-concurrently');
    const client = rawClient(config);
    cleanups.push(async () => {
      await client.topic(topic).delete();
      await client.close();
    });
    // A bridge (handler.forward) sends several batches to a new topic at once.
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, n) => publisher.publish(topic, [{ key: `k${n}`, payload: Buffer.from(String(n)) }])),
    );
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
  });

  it('truncates attribute values over 1024 bytes instead of failing the publish', async () => {
    const config = pubsubTestConfig(endpoint);
    const client = rawClient(config);
    const topic = uniqueName('long');
    await client.createTopic(topic);
    const reader = await subscribe(client, topic);
    cleanups.push(async () => {
      await client.subscription(reader).delete();
      await client.topic(topic).delete();
      await client.close();
    });
    const publisher = pubsubTestAdapter(config).createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    await publisher.publish(topic, [{ payload: Buffer.from('x'), headers: { 'sluice-error': 'é'.repeat(2000) } }]);
    const [message] = await receive(client, reader, 1, 30_000);
    expect(Buffer.byteLength(message!.attributes['sluice-error']!)).toBeLessThanOrEqual(1024);
    expect(message!.attributes['sluice-error']!.startsWith('éé')).toBe(true);
  });
});
