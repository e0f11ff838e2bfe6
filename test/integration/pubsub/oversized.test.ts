// A message over Pub/Sub's 10 MiB limit: neither the client nor the emulators refuse it up front
// (the publish hung until publisher.timeoutMs and then failed as retriable), so the publisher
// refuses it before sending, at once and as not retriable; the dead-letter writer's event is then
// nacked by the core rather than waiting on a write that cannot succeed.
import { afterEach, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES } from '../../../adapters/pubsub/pubsub-publisher.ts';
import type { SourceEvent } from '../../../src/broker/contract.ts';
import { PublisherDeadLetter } from '../../../src/dead-letter/publisher-dead-letter.ts';
import { SluiceError } from '../../../src/errors.ts';
import { uniqueName } from '../brokers.ts';
import { describeWithPubSub, pubsubTestAdapter, pubsubTestConfig, rawClient, receive, subscribe } from './helpers.ts';

const oversized = () => Buffer.alloc(MAX_MESSAGE_BYTES + 1, 97);

describeWithPubSub('pubsub: a message over the 10 MiB limit', (endpoint) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it('is refused before sending, not retriable, naming the topic and the limit; the batch is not sent, later publishes go through', async () => {
    // The publish timeout far above the test's: a rejection can only come from the size check.
    const config = pubsubTestConfig(endpoint, { publisher: { timeoutMs: 600_000 } });
    const publisher = pubsubTestAdapter(config).createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    const topic = uniqueName('big');
    const client = rawClient(config);
    await client.createTopic(topic);
    const reader = await subscribe(client, topic);
    cleanups.push(async () => {
      await client.subscription(reader).delete();
      await client.topic(topic).delete();
      await client.close();
    });

    const error = await publisher.publish(topic, [{ payload: Buffer.from('small') }, { key: 'k', payload: oversized() }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).retriable).toBe(false);
    expect((error as Error).message).toContain(topic);
    expect((error as Error).message).toContain(`limit of ${MAX_MESSAGE_BYTES} bytes`);

    await publisher.publish(topic, [{ key: 'k', payload: Buffer.from('after') }]);
    const received = await receive(client, reader, 1, 30_000);
    expect(received.map((message) => message.data.toString())).toEqual(['after']);
  });

  it('a dead letter over the limit fails its write at once (the core then nacks the event)', async () => {
    const config = pubsubTestConfig(endpoint, { createResources: true, publisher: { timeoutMs: 600_000 } });
    const source = uniqueName('src');
    const writer = new PublisherDeadLetter(pubsubTestAdapter(config).createDeadLetterPublisher(), '{source}.dlq', 'pubsub');
    const client = rawClient(config);
    cleanups.push(async () => {
      await writer.close();
      await client.topic(`${source}.dlq`).delete();
      await client.close();
    });
    const event: SourceEvent = {
      id: '1',
      key: undefined,
      payload: oversized(),
      headers: {},
      timestamp: Date.now(),
      position: { partition: '', offset: '1' },
      source,
      attempt: 1,
      ack: () => undefined,
      nack: () => undefined,
    };
    await expect(writer.write(event, new Error('handler failed'), 3)).rejects.toThrow(/over Pub\/Sub's limit/);
  });
});
