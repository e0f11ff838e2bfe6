// The Pub/Sub client retries a cut StreamingPull silently; the source's reachability probe
// (adapters/pubsub/reachability.ts) must turn a cut link into "not ready" (so /readyz and
// SluiceNotReady see it), stay ready on an idle but reachable subscription, and be ready again,
// with nothing lost, once the link is back.
import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { CollectingSink } from '../../contract/universal-suite.ts';
import { TcpLink } from '../tcp-link.ts';
import { describeWithPubSub, pubsubTestAdapter, pubsubTestConfig, rawClient, sleep, until } from './helpers.ts';

describeWithPubSub('pubsub reachability', (endpoint) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it('is not ready while the link to the server is cut, and ready again with the backlog once it is back', async () => {
    const direct = pubsubTestConfig(endpoint, { subscriptionSettings: { messageOrdering: false } });
    const client = rawClient(direct);
    cleanups.push(() => client.close());
    const [topic] = await client.createTopic(direct.topic);
    await topic.createSubscription(direct.subscription);
    cleanups.push(() => topic.delete());
    const [host, port] = endpoint.emulatorHost.split(':');
    const link = new TcpLink(host!, Number(port));
    await link.open();
    cleanups.push(() => link.close());

    const config = { ...direct, endpoint: link.address, probe: { intervalMs: 1_000, timeoutMs: 1_000 } };
    const source = pubsubTestAdapter(config, new Registry()).createSource();
    const sink = new CollectingSink(100, true);
    await source.start(sink);
    cleanups.push(() => source.close());

    await sleep(3_500); // idle: three probe intervals with nothing to receive
    expect(source.health()).toMatchObject({ connected: true });
    await topic.publishMessage({ data: Buffer.from('before') });
    await until(() => sink.events.length === 1, 20_000, 'the first event');

    await link.cut();
    const cutAt = Date.now();
    await until(() => !source.health().connected, 15_000, 'not ready after the cut');
    expect(source.health().detail).toContain('unreachable');
    await topic.publishMessage({ data: Buffer.from('during') }); // straight to the server
    await sleep(3_000);
    expect(source.health().connected).toBe(false); // still cut: stays unready
    expect(Date.now() - cutAt).toBeGreaterThan(3_000);

    await link.open();
    await until(() => sink.events.some((event) => event.payload.toString() === 'during'), 60_000, 'the event published during the cut');
    await until(() => source.health().connected, 15_000, 'ready again');
  });
});
