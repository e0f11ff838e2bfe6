// Start-up failures are clear and bounded in time; metrics show what a source does.
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { ConnectionError, NotFoundError } from '../../../src/errors.ts';
import { registerSourceMetrics } from '../../../src/metrics/source-metrics.ts';
import { CollectingSink, eventually } from '../../contract/universal-suite.ts';
import { TcpLink } from '../tcp-link.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { adapterFor, freshStream, localConfig } from './helpers.ts';

describeWithBroker('kinesis', 'kinesis start-up and metrics', (kinesis) => {
  describeWithBroker('dynamodb', 'with dynalite', (dynamodb) => {
    it('fails with NotFoundError naming a stream that does not exist', async () => {
      const config = { ...localConfig({ kinesis }), stream: uniqueName('missing') };
      const source = adapterFor(config).createSource();
      const error = await source.start(new CollectingSink()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as Error).message).toContain(config.stream);
      expect(source.health().connected).toBe(false);
    });

    it('fails with a retriable ConnectionError within connectTimeoutMs when Kinesis is unreachable', async () => {
      const config = { ...localConfig({ kinesis }, { connectTimeoutMs: 1_500 }), stream: uniqueName('st'), endpoint: 'http://127.0.0.1:9' };
      const source = adapterFor(config).createSource();
      const started = Date.now();
      const error = await source.start(new CollectingSink()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectionError);
      expect((error as ConnectionError).retriable).toBe(true);
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it('fails with NotFoundError when the lease table is missing and may not be created', async () => {
      const { config, cleanup } = await freshStream(localConfig({ kinesis, dynamodb }, { leases: { createTable: false } }), 1);
      try {
        const error = await adapterFor(config)
          .createSource()
          .start(new CollectingSink())
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(NotFoundError);
        expect((error as Error).message).toContain(config.application);
      } finally {
        await cleanup();
      }
    });

    it('reports a deleted stream to sink.fatal once reads have failed for consumer.fatalAfterMs', async () => {
      const { config, cleanup } = await freshStream(localConfig({ kinesis }, { consumer: { fatalAfterMs: 1_000 } }), 1);
      const adapter = adapterFor(config);
      const source = adapter.createSource();
      try {
        const sink = new CollectingSink(50, true);
        await source.start(sink);
        const admin = adapter.createAdmin();
        await admin.deleteDestination(config.stream);
        await admin.close();
        await eventually(() => sink.fatalErrors.length > 0, 30_000, 'a fatal error');
        expect(sink.fatalErrors).toHaveLength(1);
        expect(sink.fatalErrors[0]).toBeInstanceOf(NotFoundError);
        expect(sink.fatalErrors[0]!.message).toContain(config.stream);
      } finally {
        await source.close();
        await cleanup();
      }
    });

    it('is not ready while the lease table cannot be reached, and ready again once it can', async () => {
      const { config, cleanup } = await freshStream(localConfig({ kinesis, dynamodb }), 1);
      const url = new URL(dynamodb.url);
      const link = new TcpLink(url.hostname, Number(url.port));
      await link.open();
      const linked = { ...config, leases: { ...config.leases, endpoint: `http://${link.address}` } } as typeof config;
      const source = adapterFor(linked).createSource();
      try {
        await source.start(new CollectingSink(50, true));
        await eventually(() => (source.health().detail ?? '').includes('1 shard(s) leased'), 20_000, 'the shard leased');
        expect(source.health().connected).toBe(true);
        await link.cut();
        await eventually(() => !source.health().connected, 20_000, 'not ready after the cut');
        expect(source.health().detail).toContain('lease table not answering');
        await link.open();
        await eventually(() => source.health().connected, 30_000, 'ready again');
      } finally {
        await source.close();
        await link.close();
        await cleanup();
      }
    });

    it('exports shards owned and ms behind latest per shard on the injected registry', async () => {
      const { config, cleanup } = await freshStream(localConfig({ kinesis, dynamodb }), 2);
      const registry = new Registry();
      const adapter = adapterFor(config, { registry });
      const source = adapter.createSource();
      const publisher = adapter.createPublisher();
      try {
        const sink = new CollectingSink(50, true);
        await source.start(sink);
        expect(source.health()).toMatchObject({ connected: true });
        expect(source.health().detail).toContain('2 shard(s) leased');
        await publisher.publish(
          config.stream,
          Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, payload: Buffer.from(String(i)) })),
        );
        await eventually(() => sink.events.length >= 20, 20_000, '20 events');
        await new Promise((resolve) => setTimeout(resolve, 400));
        const text = await registry.metrics();
        expect(text).toMatch(new RegExp(`sluice_kinesis_shards_owned\\{broker="kinesis",stream="${config.stream}"\\} 2`));
        expect(text).toMatch(/sluice_kinesis_millis_behind_latest\{broker="kinesis",stream="[^"]+",shard="shardId-000000000000"\} \d+/);
        expect(registry.getSingleMetric('sluice_kinesis_throttles_total')).toBeDefined();
      } finally {
        await source.close();
        await publisher.close();
        await cleanup();
      }
    });

    it('exports the shared lag series: up while records wait unacked, 0 once processed and checkpointed', async () => {
      const { config, cleanup } = await freshStream(localConfig({ kinesis }), 1);
      const registry = new Registry();
      const adapter = adapterFor(config, { registry });
      const source = adapter.createSource();
      registerSourceMetrics(registry, 'kinesis', source); // as the composition root does
      const publisher = adapter.createPublisher();
      const sample = async (name: string) =>
        (await registry.getSingleMetric(name)!.get()).values.find((value) => value.labels.partition === 'shardId-000000000000')?.value;
      try {
        const sink = new CollectingSink(50); // acked by the test
        await source.start(sink);
        const published = Date.now();
        await publisher.publish(
          config.stream,
          Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, payload: Buffer.from(String(i)) })),
        );
        await eventually(() => sink.events.length >= 20, 20_000, '20 events');
        await new Promise((resolve) => setTimeout(resolve, 300));
        // Read, not acked, so not checkpointed: all 20 count, as old as the publish.
        expect(await sample('sluice_source_lag_events')).toBe(20);
        const age = (await sample('sluice_source_lag_seconds'))!;
        expect(age).toBeGreaterThanOrEqual(0.3);
        expect(age).toBeLessThanOrEqual((Date.now() - published) / 1000 + 1);

        for (const event of sink.events) event.ack();
        const deadline = Date.now() + 20_000;
        while ((await sample('sluice_source_lag_events')) !== 0 || (await sample('sluice_source_lag_seconds')) !== 0) {
          if (Date.now() > deadline) throw new Error('the lag series did not return to 0');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const text = await registry.metrics();
        expect(text).toMatch(new RegExp(`sluice_source_commits_total\\{broker="kinesis",source="${config.stream}"\\} [1-9]`));
        expect(text).toContain(`sluice_source_commit_errors_total{broker="kinesis",source="${config.stream}"} 0`);
      } finally {
        await source.close();
        await publisher.close();
        await cleanup();
      }
    });
  });
});
