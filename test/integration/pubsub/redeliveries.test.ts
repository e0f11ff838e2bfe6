// Copies of messages Pub/Sub delivers again (adapters/pubsub/recent-acks.ts, PubSubEvent.copies):
// a copy of a message Sluice already acked is acked without a second handler call, one of a
// message Sluice still holds is settled with it, and a nacked message is still processed again.
// The copies are made the way an operator would: Seek to a time before the messages were
// published, on a subscription that retains acked messages. Emulator only: pstest 2.9.0 panics
// (nil pointer in maintainMessages) on that seek.
import type { Subscription } from '@google-cloud/pubsub';
import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import type { SourceEvent } from '../../../src/broker/contract.ts';
import { CollectingSink } from '../../contract/universal-suite.ts';
import { describeWithBroker } from '../brokers.ts';
import { pubsubTestAdapter, pubsubTestConfig, rawClient, sleep, until } from './helpers.ts';

const n = (event: SourceEvent): number => Number(event.payload.toString());

describeWithBroker('pubsub', 'pubsub redelivered copies', (endpoint) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  /** A topic and a subscription that keeps acked messages (so Seek brings them back), a started source. */
  async function setup(overrides: Record<string, unknown> = {}) {
    const config = pubsubTestConfig(endpoint, { subscriptionSettings: { messageOrdering: false }, ...overrides });
    const client = rawClient(config);
    cleanups.push(() => client.close());
    const [topic] = await client.createTopic(config.topic);
    const [subscription] = await topic.createSubscription(config.subscription, { retainAckedMessages: true, ackDeadlineSeconds: 10 });
    cleanups.push(() => topic.delete());
    const registry = new Registry();
    const source = pubsubTestAdapter(config, registry).createSource();
    const sink = new CollectingSink(100, false);
    await source.start(sink);
    cleanups.push(() => source.close());
    const before = new Date(Date.now() - 2_000);
    await Promise.all([0, 1, 2, 3, 4].map((i) => topic.publishMessage({ data: Buffer.from(String(i)) })));
    await until(() => sink.events.length >= 5, 20_000, '5 events');
    return { registry, sink, subscription: subscription as Subscription, before };
  }

  it('acks a copy of a message it acked, without handing it to the core again', async () => {
    const { registry, sink, subscription, before } = await setup();
    for (const event of sink.events) event.ack();
    await sleep(500); // the client sends acks in batches
    await subscription.seek(before); // every message of the subscription is delivered again
    const deadline = Date.now() + 20_000;
    while ((await copies(registry, 'acked')) < 5 && Date.now() < deadline) await sleep(50);
    expect(await copies(registry, 'acked')).toBe(5);
    expect(sink.events.map(n).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('processes the copies again when it does not remember acked ids (rememberAcked: 0)', async () => {
    const { sink, subscription, before } = await setup({ redeliveries: { rememberAcked: 0 } });
    for (const event of sink.events) event.ack();
    await sleep(500);
    await subscription.seek(before);
    await until(() => sink.events.length >= 10, 20_000, 'the 5 copies in the core');
    expect(sink.events.map(n).sort()).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it('settles a copy of a message it still holds with it, and processes a nacked one again', async () => {
    const { registry, sink, subscription, before } = await setup();
    await subscription.seek(before); // delivered again while Sluice holds all five
    const deadline = Date.now() + 20_000;
    while ((await copies(registry, 'joined')) < 5 && Date.now() < deadline) await sleep(50);
    expect(await copies(registry, 'joined')).toBe(5);
    expect(sink.events).toHaveLength(5);
    const [first, ...rest] = sink.events;
    first!.nack(); // comes back: a nack is not remembered
    for (const event of rest) event.ack();
    await until(() => sink.events.length >= 6, 20_000, 'the nacked event again');
    sink.events[5]!.ack();
    expect(n(sink.events[5]!)).toBe(n(first!));
    // Every ack id of every copy was acked: nothing comes back once the deadline has passed.
    await sleep(12_000);
    expect(sink.events).toHaveLength(6);
  });
});

async function copies(registry: Registry, how: 'joined' | 'acked'): Promise<number> {
  const metric = registry.getSingleMetric('sluice_pubsub_copies_suppressed_total');
  if (!metric) return 0;
  const data = await metric.get();
  return data.values.filter((value) => value.labels.how === how).reduce((sum, value) => sum + value.value, 0);
}
