import { afterEach, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { Sluice } from '../../../src/app.ts';
import { describeWithBroker } from '../brokers.ts';
import { metricValue, pubsubTestAdapter, pubsubTestConfig, sleep, sluiceConfig, testLogger, until } from './helpers.ts';

describeWithBroker('pubsub', 'pubsub exactly-once subscriptions', (endpoint) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  async function run(options: { lease?: Record<string, unknown>; handlerMs: number; events: number }) {
    const config = pubsubTestConfig(endpoint, {
      subscriptionSettings: { messageOrdering: false, exactlyOnceDelivery: true },
      lease: options.lease ?? {},
    });
    const registry = new Registry();
    const adapter = pubsubTestAdapter(config, registry);
    const admin = adapter.createAdmin();
    await admin.createDestination(config.topic);
    cleanups.push(async () => {
      await admin.deleteDestination(config.topic);
      await admin.close();
    });
    const calls: string[] = [];
    const sluice = await Sluice.create(await sluiceConfig(config, { handler: { timeoutMs: 0 } }), testLogger(), {
      registry,
      handler: async (event) => {
        calls.push(event.payload.toString());
        await sleep(options.handlerMs);
      },
    });
    await sluice.start();
    cleanups.push(() => sluice.stop());
    const publisher = adapter.createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    await publisher.publish(
      config.topic,
      Array.from({ length: options.events }, (_, i) => ({ payload: Buffer.from(String(i)) })),
    );
    return { calls, registry, sluice };
  }

  it('waits for the server to confirm each ack; confirmed messages are not delivered again', async () => {
    const { calls, registry, sluice } = await run({ handlerMs: 1, events: 50 });
    await until(() => sluice.pipeline.stats.processed.success >= 50, 30_000, '50 events');
    await until(() => calls.length >= 50, 30_000, '50 calls');
    await sleep(12_000); // longer than the ack deadline: an unconfirmed ack would show up as a redelivery
    expect(new Set(calls).size).toBe(50);
    expect(calls.length).toBe(50);
    expect(await metricValue(registry, 'sluice_source_commit_errors_total')).toBe(0);
    expect(await metricValue(registry, 'sluice_source_commits_total')).toBe(50); // acks the server confirmed
  });
});
