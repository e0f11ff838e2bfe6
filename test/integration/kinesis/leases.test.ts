// Several instances share a stream through the DynamoDB lease table (dynalite): they balance
// the shards, and when one dies (every call it makes fails: it can neither read, renew nor
// checkpoint) the other takes its shards over once the leases expire. Nothing is lost.
import { Registry } from 'prom-client';
import { afterEach, expect, it } from 'vitest';
import { createClients } from '../../../adapters/kinesis/clients.ts';
import type { KinesisSource } from '../../../adapters/kinesis/kinesis-source.ts';
import type { OutgoingEvent } from '../../../src/broker/contract.ts';
import pino from 'pino';
import { Pipeline } from '../../../src/core/pipeline.ts';
import { CollectingSink, eventually } from '../../contract/universal-suite.ts';
import { describeWithBroker } from '../brokers.ts';
import { FaultyClient } from './faulty-client.ts';
import { adapterFor, freshStream, localConfig, sleep } from './helpers.ts';

const n = (payload: Buffer) => (JSON.parse(payload.toString()) as { n: number }).n;

async function metricTotal(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  return (await metric.get()).values.reduce((sum, value) => sum + value.value, 0);
}

describeWithBroker('kinesis', 'kinesis lease table', (kinesis) => {
  describeWithBroker('dynamodb', 'with dynalite', (dynamodb) => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    });

    it('two instances share four shards, and one takes over all of them when the other dies', async () => {
      const { config, cleanup } = await freshStream(localConfig({ kinesis, dynamodb }), 4);
      cleanups.push(cleanup);
      const survivorRegistry = new Registry();
      const survivor = adapterFor(config, { registry: survivorRegistry }).createSource() as KinesisSource;
      let victimClients: { kinesis: FaultyClient; dynamo: FaultyClient } | undefined;
      const victim = adapterFor(config, {
        clients: (c) => {
          const clients = createClients(c);
          victimClients = { kinesis: new FaultyClient(clients.kinesis), dynamo: new FaultyClient(clients.dynamo!) };
          return victimClients;
        },
      }).createSource() as KinesisSource;
      cleanups.push(
        () => survivor.close(),
        () => victim.close(),
      );

      const survivorSink = new CollectingSink(100, true);
      const victimSink = new CollectingSink(100, true);
      await survivor.start(survivorSink);
      await victim.start(victimSink);
      await eventually(() => survivor.ownedShards.length === 2 && victim.ownedShards.length === 2, 20_000, 'the shards balanced 2/2');
      expect(new Set([...survivor.ownedShards, ...victim.ownedShards]).size).toBe(4);

      const publisher = adapterFor(config).createPublisher();
      cleanups.push(() => publisher.close());
      const events: OutgoingEvent[] = Array.from({ length: 2_000 }, (_, i) => ({
        key: `k${i % 40}`,
        payload: Buffer.from(JSON.stringify({ n: i })),
      }));
      await publisher.publish(config.stream, events.slice(0, 1_000));
      await eventually(() => victimSink.events.length > 0 && survivorSink.events.length > 0, 20_000, 'both instances reading');

      // The victim dies: from now on every call it makes fails (no reads, renewals, checkpoints).
      victimClients!.kinesis.dead = true;
      victimClients!.dynamo.dead = true;
      await publisher.publish(config.stream, events.slice(1_000));

      await eventually(() => survivor.ownedShards.length === 4, 30_000, 'the survivor holding all four shards');
      const processed = () => new Set([...survivorSink.events, ...victimSink.events].map((event) => n(event.payload)));
      await eventually(() => processed().size === 2_000, 30_000, 'every event processed by one instance or the other');
      expect(await metricTotal(survivorRegistry, 'sluice_kinesis_lease_takeovers_total')).toBeGreaterThanOrEqual(2);
      // The victim noticed it could not renew, and stopped reading.
      await eventually(() => victim.ownedShards.length === 0, 10_000, 'the victim giving its leases up');
      const duplicates = survivorSink.events.length + victimSink.events.length - 2_000;
      console.log(`kinesis takeover: 2000 events, ${duplicates} delivered twice (read by the victim after its last checkpoint)`);
    });

    it('a third instance gets a fair share by stealing from the most loaded one', async () => {
      const { config, cleanup } = await freshStream(localConfig({ kinesis, dynamodb }), 6);
      cleanups.push(cleanup);
      const sources = [0, 1, 2].map(() => adapterFor(config).createSource() as KinesisSource);
      for (const source of sources) cleanups.push(() => source.close());
      await sources[0]!.start(new CollectingSink(100, true));
      await eventually(() => sources[0]!.ownedShards.length === 6, 10_000, 'the first instance holding all six shards');
      await sources[1]!.start(new CollectingSink(100, true));
      await sources[2]!.start(new CollectingSink(100, true));
      await eventually(() => sources.every((source) => source.ownedShards.length === 2), 30_000, 'two shards per instance');
      await sleep(1_000);
      const owned = sources.flatMap((source) => source.ownedShards);
      expect(new Set(owned).size).toBe(6);
      expect(owned).toHaveLength(6);
    });

    it('an instance that loses a shard takes its queued events back instead of processing them', async () => {
      const { config, cleanup } = await freshStream(localConfig({ kinesis, dynamodb }), 2);
      cleanups.push(cleanup);
      const publisher = adapterFor(config).createPublisher();
      cleanups.push(() => publisher.close());
      await publisher.publish(
        config.stream,
        Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 20}`, payload: Buffer.from(JSON.stringify({ n: i })) })),
      );

      // A holds both shards; its only worker is stuck, so everything it reads waits in its queue.
      const first = adapterFor(config).createSource() as KinesisSource;
      let release!: () => void;
      const stuck = new Promise<void>((resolve) => (release = resolve));
      const processedByFirst: { shard: string; n: number }[] = [];
      const pipeline = new Pipeline(
        {
          broker: 'kinesis',
          queue: { maxEvents: 1_000, maxBytes: 1 << 24, policy: 'block' },
          pool: { size: 1, orderByKey: false },
          shutdownTimeoutMs: 5_000,
          stallTimeoutMs: 60_000,
        },
        {
          source: first,
          handler: async (event) => {
            await stuck;
            processedByFirst.push({ shard: event.position.partition, n: n(event.payload) });
          },
          logger: pino({ level: 'silent' }),
        },
      );
      await pipeline.start();
      cleanups.push(() => pipeline.stop());
      await eventually(() => pipeline.stats.received >= 200, 20_000, 'A reading all 200 events into its queue');

      // B arrives and steals one shard toward the fair share.
      const second = adapterFor(config).createSource() as KinesisSource;
      cleanups.push(() => second.close());
      const sink = new CollectingSink(100, true);
      await second.start(sink);
      await eventually(() => second.ownedShards.length === 1 && first.ownedShards.length === 1, 20_000, 'one shard each');
      const stolen = second.ownedShards[0]!;
      await eventually(() => sink.events.length > 0, 20_000, 'B reading the stolen shard');
      release();
      await eventually(() => processedByFirst.length > 0 && pipeline.queue.depth === 0, 20_000, 'A draining its queue');
      // At most the one event its worker had started belongs to the stolen shard; B delivers them all.
      expect(processedByFirst.filter((event) => event.shard === stolen).length).toBeLessThanOrEqual(1);
      expect(processedByFirst.filter((event) => event.shard !== stolen).length).toBeGreaterThan(0);
      // B keeps reading the stolen shard meanwhile: count what it has delivered by each check.
      await eventually(
        () => new Set([...processedByFirst.map((event) => event.n), ...sink.events.map((event) => n(event.payload))]).size === 200,
        20_000,
        'every event processed by A or B',
      );
    });

    it('a closed instance releases its leases at once, with its checkpoints', async () => {
      const { config, cleanup } = await freshStream(
        localConfig({ kinesis, dynamodb }, { leases: { durationMs: 60_000, renewIntervalMs: 300 } }),
        2,
      );
      cleanups.push(cleanup);
      const publisher = adapterFor(config).createPublisher();
      cleanups.push(() => publisher.close());
      await publisher.publish(
        config.stream,
        Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 10}`, payload: Buffer.from(JSON.stringify({ n: i })) })),
      );
      const first = adapterFor(config).createSource() as KinesisSource;
      const sink = new CollectingSink(100, true);
      await first.start(sink);
      await eventually(() => sink.events.length >= 100, 20_000, 'the first instance reading all 100');
      await first.close();
      // With a 60 s lease duration, only a release lets the next instance start at once.
      const second = adapterFor(config).createSource() as KinesisSource;
      cleanups.push(() => second.close());
      const again = new CollectingSink(100, true);
      await second.start(again);
      await eventually(() => second.ownedShards.length === 2, 5_000, 'the second instance taking both released shards');
      await publisher.publish(config.stream, [{ key: 'k0', payload: Buffer.from(JSON.stringify({ n: 100 })) }]);
      await eventually(() => again.events.length >= 1, 10_000, 'the next event');
      await sleep(500);
      expect(again.events.map((event) => n(event.payload))).toEqual([100]);
    });
  });
});
