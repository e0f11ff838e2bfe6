// Pub/Sub smoke test: the emulator takes a topic and a subscription, delivers what was
// published with its attributes, and redelivers a message that was nacked.
import { PubSub, type Message, type Subscription, type Topic } from '@google-cloud/pubsub';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { withTimeout } from '../wait.ts';

describeWithBroker('pubsub', 'pubsub emulator smoke', (endpoint) => {
  // An apiEndpoint that is not *.googleapis.com puts the client in emulator mode (plain gRPC).
  const pubsub = new PubSub({ projectId: endpoint.projectId, apiEndpoint: endpoint.emulatorHost });
  let topic: Topic;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    [topic] = await pubsub.createTopic(uniqueName('smoke'));
  });

  afterAll(async () => {
    for (const sub of subscriptions) {
      await sub.close();
      await sub.delete().catch(() => undefined);
    }
    await topic?.delete().catch(() => undefined);
    await pubsub.close();
  });

  async function subscribe(): Promise<Subscription> {
    const [sub] = await topic.createSubscription(uniqueName('smoke-sub'), { ackDeadlineSeconds: 10 });
    subscriptions.push(sub);
    return sub;
  }

  it('lists the topic it created', async () => {
    const [topics] = await pubsub.getTopics();
    expect(topics.map((t) => t.name)).toContain(topic.name);
  });

  it('delivers published messages with their data and attributes', async () => {
    const sub = await subscribe();
    const sent = Array.from({ length: 5 }, (_, i) => ({ data: `payload-${i}`, attributes: { seq: String(i) } }));
    const ids = await Promise.all(sent.map((m) => topic.publishMessage({ data: Buffer.from(m.data), attributes: m.attributes })));
    expect(new Set(ids).size).toBe(sent.length);

    const received: Message[] = [];
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        sub.on('error', reject);
        sub.on('message', (message: Message) => {
          received.push(message);
          message.ack();
          if (received.length === sent.length) resolve();
        });
      }),
      60_000,
      () => `got ${received.length}/${sent.length} messages`,
    );
    const got = received
      .map((m) => ({ data: m.data.toString(), attributes: { ...m.attributes } }))
      .sort((a, b) => a.data.localeCompare(b.data));
    expect(got).toEqual(sent);
    expect(received.map((m) => m.id).sort()).toEqual([...ids].sort());
  });

  it('redelivers a nacked message', async () => {
    const sub = await subscribe();
    await topic.publishMessage({ data: Buffer.from('nack-me') });
    const deliveries: string[] = [];
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        sub.on('error', reject);
        sub.on('message', (message: Message) => {
          deliveries.push(message.data.toString());
          if (deliveries.length === 1) message.nack();
          else {
            message.ack();
            resolve();
          }
        });
      }),
      60_000,
      () => `got ${deliveries.length} deliveries`,
    );
    expect(deliveries).toEqual(['nack-me', 'nack-me']);
  });
});
