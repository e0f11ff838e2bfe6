import { afterEach, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { Sluice } from '../../../src/app.ts';
import type { SourceEvent } from '../../../src/broker/contract.ts';
import { ConnectionError, NotFoundError } from '../../../src/errors.ts';
import { registerSourceMetrics } from '../../../src/metrics/source-metrics.ts';
import { CollectingSink } from '../../contract/universal-suite.ts';
import { describeWithBroker } from '../brokers.ts';
import { withTimeout } from '../wait.ts';
import { metricValue, pubsubTestAdapter, rawClient, pubsubTestConfig, sleep, sluiceConfig, testLogger, until } from './helpers.ts';

const n = (event: SourceEvent): number => (JSON.parse(event.payload.toString()) as { n: number }).n;

describeWithBroker('pubsub', 'pubsub source', (endpoint) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  /** A fresh topic + subscription (created by the admin), a publisher, and a cleanup. */
  async function fresh(overrides: Record<string, unknown> = {}) {
    const config = pubsubTestConfig(endpoint, overrides);
    const registry = new Registry();
    const adapter = pubsubTestAdapter(config, registry);
    const admin = adapter.createAdmin();
    await admin.createDestination(config.topic);
    cleanups.push(async () => {
      await admin.deleteDestination(config.topic);
      await admin.close();
    });
    const publisher = adapter.createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    return { config, registry, adapter, publisher };
  }

  it('fails start with a NotFoundError naming a missing subscription', async () => {
    const config = pubsubTestConfig(endpoint, { createResources: false });
    const source = pubsubTestAdapter(config).createSource();
    const error = await withTimeout(
      source.start(new CollectingSink()).then(
        () => undefined,
        (e: unknown) => e,
      ),
      20_000,
      () => 'start() to fail',
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain(`subscriptions/${config.subscription}`);
    expect((error as Error).message).toContain('createResources');
    await source.close();
  });

  it('fails start with a ConnectionError when the endpoint is unreachable', async () => {
    const config = pubsubTestConfig(endpoint, { endpoint: '127.0.0.1:1', connectTimeoutMs: 2_000 });
    const source = pubsubTestAdapter(config).createSource();
    const error = await withTimeout(
      source.start(new CollectingSink()).then(
        () => undefined,
        (e: unknown) => e,
      ),
      20_000,
      () => 'start() to fail',
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain('127.0.0.1:1');
    await source.close();
  });

  it('creates the topic and subscription with createResources, with the configured settings', async () => {
    const config = pubsubTestConfig(endpoint, {
      createResources: true,
      subscriptionSettings: { messageOrdering: true, ackDeadlineSeconds: 20 },
    });
    const adapter = pubsubTestAdapter(config);
    const source = adapter.createSource();
    cleanups.push(async () => {
      await source.close();
      const admin = adapter.createAdmin();
      await admin.deleteDestination(config.topic);
      await admin.close();
    });
    const sink = new CollectingSink(10, true);
    await source.start(sink);
    expect(source.health().connected).toBe(true);
    const publisher = adapter.createPublisher();
    await publisher.connect();
    cleanups.push(() => publisher.close());
    await publisher.publish(config.topic, [{ key: 'a', payload: Buffer.from('{"n":1}'), headers: { h: 'v' } }]);
    await until(() => sink.events.length >= 1, 30_000, 'the event');
    expect(sink.events[0]!.headers.h).toBe('v');
    expect(sink.events[0]!.source).toBe(config.subscription);
  });

  it('reports a subscription deleted under a running source as fatal, and not connected', async () => {
    const { config, adapter } = await fresh();
    const source = adapter.createSource();
    cleanups.push(() => source.close());
    const sink = new CollectingSink(10, true);
    await source.start(sink);
    expect(source.health().connected).toBe(true);
    const client = rawClient(config);
    await client.subscription(config.subscription).delete();
    await client.close();
    await until(() => sink.fatalErrors.length > 0, 30_000, 'the source to report the lost subscription');
    expect(sink.fatalErrors[0]).toBeInstanceOf(NotFoundError);
    expect(sink.fatalErrors[0]!.message).toContain(config.subscription);
    expect(source.health().connected).toBe(false);
  });

  it('exports the shared lag series: outstanding messages and their age, 0 once acked', async () => {
    const { config, registry, adapter, publisher } = await fresh({ subscriptionSettings: { messageOrdering: false } });
    const source = adapter.createSource();
    cleanups.push(() => source.close());
    registerSourceMetrics(registry, 'pubsub', source); // as the composition root does
    const sample = async (name: string) =>
      (await registry.getSingleMetric(name)!.get()).values.find((value) => value.labels.source === config.subscription)?.value;
    const sink = new CollectingSink(50); // acked by the test
    await source.start(sink);
    const published = Date.now();
    await publisher.publish(
      config.topic,
      Array.from({ length: 10 }, (_, i) => ({ payload: Buffer.from(`{"n":${i}}`) })),
    );
    await until(() => sink.events.length >= 10, 30_000, '10 messages');
    await sleep(300);
    // Received, not acked: all 10 outstanding, the oldest as old as the publish.
    expect(await sample('sluice_source_lag_events')).toBe(10);
    const age = (await sample('sluice_source_lag_seconds'))!;
    expect(age).toBeGreaterThanOrEqual(0.3);
    expect(age).toBeLessThanOrEqual((Date.now() - published) / 1000 + 1);

    for (const event of sink.events) event.ack();
    expect(await sample('sluice_source_lag_events')).toBe(0);
    expect(await sample('sluice_source_lag_seconds')).toBe(0);
    expect(await sample('sluice_source_commits_total')).toBe(10);
    expect(await sample('sluice_source_commit_errors_total')).toBe(0);
  });

  it('keeps a message leased while a handler slower than the ack deadline runs (no redelivery)', async () => {
    // The subscription's ack deadline is 10 s (the minimum Pub/Sub allows); the handler takes 15 s.
    const { config, registry, publisher } = await fresh({ subscriptionSettings: { ackDeadlineSeconds: 10, messageOrdering: false } });
    const calls = new Map<number, number>();
    const sluice = await Sluice.create(await sluiceConfig(config, { handler: { timeoutMs: 60_000 } }), testLogger(), {
      registry,
      handler: async (event) => {
        calls.set(n(event), (calls.get(n(event)) ?? 0) + 1);
        await sleep(15_000);
      },
    });
    await sluice.start();
    cleanups.push(() => sluice.stop());
    await publisher.publish(config.topic, [{ payload: Buffer.from('{"n":1}') }, { payload: Buffer.from('{"n":2}') }]);
    await until(() => sluice.pipeline.stats.processed.success >= 2, 40_000, 'both slow events to finish');
    await sleep(2_000); // a redelivery after an expired lease would show up now
    expect(Object.fromEntries(calls)).toEqual({ 1: 1, 2: 1 });
    expect(await metricValue(registry, 'sluice_pubsub_received_total')).toBe(2);
    expect(await metricValue(registry, 'sluice_pubsub_lease_extensions_total')).toBeGreaterThan(0);
  });

  /**
   * Publishes 30 events on 3 ordering keys (n % 3), runs them through Sluice with a handler that
   * fails the first time it sees event 4, and returns the order in which the handler was invoked,
   * per key.
   */
  async function runWithOneFailure(options: { guard: 'off' | 'nack' | 'strict'; retryAttempts: number }) {
    const { config, registry, publisher } = await fresh({
      subscriptionSettings: { messageOrdering: true },
      ordering: { guard: options.guard },
    });
    const invocations = new Map<number, number[]>();
    let failed = false;
    const sluice = await Sluice.create(
      await sluiceConfig(config, {
        pool: { size: 4, orderByKey: true },
        handler: { retry: { maxAttempts: options.retryAttempts, initialBackoffMs: 300, maxBackoffMs: 300 } },
      }),
      testLogger(),
      {
        registry,
        handler: async (event) => {
          const value = n(event);
          const list = invocations.get(value % 3) ?? [];
          list.push(value);
          invocations.set(value % 3, list);
          await sleep(5);
          if (value === 4 && !failed) {
            failed = true;
            throw new Error('first try of event 4 fails');
          }
        },
      },
    );
    await sluice.start();
    cleanups.push(() => sluice.stop());
    const events = Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 3}`, payload: Buffer.from(JSON.stringify({ n: i })) }));
    await publisher.publish(config.topic, events);
    const done = () =>
      new Set([...invocations.values()].flat()).size >= 30 && sluice.pipeline.queue.depth === 0 && sluice.pipeline.pool.busy === 0;
    await until(done, 60_000, 'all 30 events processed');
    await sleep(1_000);
    return { invocations, registry, sluice };
  }

  // Key k1 holds 1, 4, 7, …, 28; event 4 fails once. Later events of k1 must not run before 4 succeeded.
  const expectedK1 = [1, 4, 4, 7, 10, 13, 16, 19, 22, 25, 28];

  it('keeps the order of a key across a failing-then-succeeding event (retried in process)', async () => {
    const { invocations } = await runWithOneFailure({ guard: 'off', retryAttempts: 3 });
    expect(invocations.get(1)).toEqual(expectedK1);
    expect(invocations.get(0)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
  });

  for (const guard of ['nack', 'strict'] as const) {
    it(`keeps the order of a key across a nacked event redelivered by Pub/Sub (ordering.guard ${guard})`, async () => {
      const { invocations, registry } = await runWithOneFailure({ guard, retryAttempts: 1 });
      expect(invocations.get(1)).toEqual(expectedK1);
      expect(invocations.get(2)).toEqual([2, 5, 8, 11, 14, 17, 20, 23, 26, 29]);
      expect(await metricValue(registry, 'sluice_pubsub_nacks_total')).toBeGreaterThanOrEqual(1);
    });
  }
});
