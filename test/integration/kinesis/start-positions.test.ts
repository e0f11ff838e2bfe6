// Where a consumer with no checkpoints starts: LATEST skips what was written before it started,
// AT_TIMESTAMP starts at the first record that arrived at or after the timestamp.
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { CollectingSink, eventually } from '../../contract/universal-suite.ts';
import { describeWithBroker } from '../brokers.ts';
import { adapterFor, freshStream, localConfig, sleep } from './helpers.ts';

const events = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ key: `k${(from + i) % 4}`, payload: Buffer.from(String(from + i)) }));

describeWithBroker('kinesis', 'kinesis start positions', (kinesis) => {
  it('LATEST reads only what is written after the shards were first read', async () => {
    const { config, cleanup } = await freshStream(localConfig({ kinesis }, { startFrom: 'LATEST' }), 2);
    const registry = new Registry();
    const adapter = adapterFor(config, { registry });
    const publisher = adapter.createPublisher();
    const source = adapter.createSource();
    try {
      await publisher.publish(config.stream, events(0, 10));
      const sink = new CollectingSink(50, true);
      await source.start(sink);
      // Each shard reports its lag after its first GetRecords: from then on, LATEST is fixed.
      const deadline = Date.now() + 20_000;
      while (((await registry.getSingleMetric('sluice_kinesis_millis_behind_latest')?.get())?.values.length ?? 0) < 2) {
        if (Date.now() > deadline) throw new Error('timed out waiting for a first read of both shards');
        await sleep(50);
      }
      await publisher.publish(config.stream, events(10, 10));
      await eventually(() => sink.events.length >= 10, 20_000, 'the 10 later events');
      await sleep(500);
      expect(
        sink
          .payloads()
          .map(Number)
          .sort((a, b) => a - b),
      ).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
    } finally {
      await source.close();
      await publisher.close();
      await cleanup();
    }
  });

  it('AT_TIMESTAMP starts at the first record that arrived at or after the timestamp', async () => {
    const { config, cleanup } = await freshStream(localConfig({ kinesis }), 1);
    const publisher = adapterFor(config).createPublisher();
    try {
      await publisher.publish(config.stream, events(0, 5));
      await sleep(1_500); // arrival timestamps have second precision on kinesalite
      const from = Date.now();
      await sleep(1_000);
      await publisher.publish(config.stream, events(5, 5));
      const source = adapterFor({ ...config, startFrom: 'AT_TIMESTAMP', startTimestamp: from }).createSource();
      const sink = new CollectingSink(50, true);
      await source.start(sink);
      await eventually(() => sink.events.length >= 5, 20_000, 'the 5 later events');
      await sleep(500);
      await source.close();
      expect(sink.payloads()).toEqual(['5', '6', '7', '8', '9']);
    } finally {
      await publisher.close();
      await cleanup();
    }
  });
});
