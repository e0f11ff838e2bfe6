// Throttling and expired iterators are survived. Faults are injected by a small wrapper around
// the client's send (faulty-client.ts); everything else is the real kinesalite.
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { createClients } from '../../../adapters/kinesis/clients.ts';
import { CollectingSink, eventually } from '../../contract/universal-suite.ts';
import { describeWithBroker } from '../brokers.ts';
import { expiredIterator, FaultyClient, throttled } from './faulty-client.ts';
import { adapterFor, freshStream, localConfig, sleep } from './helpers.ts';

async function metricTotal(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  return (await metric.get()).values.reduce((sum, value) => sum + value.value, 0);
}

const range = (from: number, to: number) => new Set(Array.from({ length: to - from + 1 }, (_, i) => from + i));

describeWithBroker('kinesis', 'kinesis faults', (kinesis) => {
  it('survives throttled reads and expired iterators without losing or repeating a record', async () => {
    const { config, cleanup } = await freshStream(localConfig({ kinesis }), 2);
    const registry = new Registry();
    let faulty: FaultyClient | undefined;
    const adapter = adapterFor(config, {
      registry,
      clients: (c) => {
        const clients = createClients(c);
        faulty = new FaultyClient(clients.kinesis, [
          { command: 'GetRecordsCommand', calls: new Set([2, 3, 4, 9, 10]), error: throttled },
          { command: 'GetRecordsCommand', calls: new Set([6, 13, 14, 20]), error: expiredIterator },
          { command: 'GetShardIteratorCommand', calls: new Set([3]), error: throttled },
        ]);
        return { ...clients, kinesis: faulty };
      },
    });
    const source = adapter.createSource();
    const publisher = adapterFor(config).createPublisher();
    try {
      const sink = new CollectingSink(20, true);
      await source.start(sink);
      for (let batch = 0; batch < 10; batch++) {
        await publisher.publish(
          config.stream,
          Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 6}`, payload: Buffer.from(JSON.stringify({ n: batch * 30 + i })) })),
        );
        await sleep(150);
      }
      await eventually(() => sink.events.length >= 300, 30_000, 'all 300 events');
      await sleep(500);
      const ns = sink.events.map((event) => (JSON.parse(event.payload.toString()) as { n: number }).n);
      expect(new Set(ns)).toEqual(range(0, 299));
      expect(ns).toHaveLength(300); // a renewed iterator starts after the last delivered record
      const lastByKey = new Map<string, number>();
      for (const event of sink.events) {
        const n = (JSON.parse(event.payload.toString()) as { n: number }).n;
        expect(n).toBeGreaterThan(lastByKey.get(event.key!) ?? -1);
        lastByKey.set(event.key!, n);
      }
      expect(faulty!.injected.get('GetRecordsCommand')).toBe(9);
      expect(await metricTotal(registry, 'sluice_kinesis_throttles_total')).toBeGreaterThanOrEqual(6);
      expect(await metricTotal(registry, 'sluice_kinesis_iterator_renewals_total')).toBe(4);
    } finally {
      await source.close();
      await publisher.close();
      await cleanup();
    }
  });

  it('publishes every record once when PutRecords refuses some entries', async () => {
    const { config, cleanup } = await freshStream(localConfig({ kinesis }), 2);
    let faulty: FaultyClient | undefined;
    const publisher = adapterFor(config, {
      clients: (c) => {
        const clients = createClients(c);
        faulty = new FaultyClient(clients.kinesis);
        faulty.putFailureEvery = 4;
        return { ...clients, kinesis: faulty };
      },
    }).createPublisher();
    const source = adapterFor(config).createSource();
    try {
      await publisher.publish(
        config.stream,
        Array.from({ length: 1_200 }, (_, n) => ({ key: `k${n % 30}`, payload: Buffer.from(JSON.stringify({ n })) })),
      );
      expect(faulty!.counts.get('PutRecordsCommand')).toBeGreaterThan(3); // 3 batches of ≤500, then retries
      expect(faulty!.injected.get('PutRecordsEntry')).toBeGreaterThan(300);
      const sink = new CollectingSink(500, true);
      await source.start(sink);
      await eventually(() => sink.events.length >= 1_200, 30_000, 'all 1200 records');
      await sleep(500);
      const ns = sink.events.map((event) => (JSON.parse(event.payload.toString()) as { n: number }).n);
      expect(ns).toHaveLength(1_200);
      expect(new Set(ns)).toEqual(range(0, 1_199));
    } finally {
      await source.close();
      await publisher.close();
      await cleanup();
    }
  });
});
