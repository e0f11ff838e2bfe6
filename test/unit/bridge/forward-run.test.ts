import { describe, expect, it } from 'vitest';
import { MemoryAdapter } from '../../../adapters/memory/memory-adapter.ts';
import { MemoryBroker } from '../../../adapters/memory/memory-broker.ts';
import { memoryConfigSchema } from '../../../adapters/memory/config.ts';
import { Sluice } from '../../../src/app.ts';
import type { SourceEvent } from '../../../src/broker/contract.ts';
import { replayConfig } from '../../../src/cli/replay-command.ts';
import { validateConfig } from '../../../src/config/load.ts';
import { deadLetterHeaders } from '../../../src/dead-letter/dead-letter.ts';
import { eventually, silent } from '../helpers.ts';

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
const broker = MemoryBroker.shared('default');

function records(topic: string) {
  return broker.topic(topic).partitions.flatMap((partition) => partition.records);
}

async function publish(topic: string, events: { key?: string; payload: string; headers?: Record<string, string> }[]) {
  const publisher = new MemoryAdapter(memoryConfigSchema.parse({ topic })).createPublisher();
  await publisher.connect();
  await publisher.publish(
    topic,
    events.map((e) => ({ ...e, payload: Buffer.from(e.payload) })),
  );
  await publisher.close();
}

describe('the forward handler on the memory broker', () => {
  it('forwards every event to its templated destination, keys and headers kept; an unroutable one is dead-lettered', async () => {
    const from = unique('fwd-in');
    const to = unique('fwd-out');
    await publish(from, [
      ...Array.from({ length: 300 }, (_, n) => ({ key: `k${n % 2}`, payload: String(n), headers: { traceparent: `t${n}` } })),
      { payload: 'no-key' },
    ]);
    const config = await validateConfig({
      broker: { type: 'memory', memory: { topic: from, group: unique('g') } },
      pool: { size: 8, orderByKey: true },
      handler: { forward: { broker: { type: 'memory', memory: { topic: to } }, destination: `${to}-{key}`, batch: { maxEvents: 16 } } },
      deadLetter: { type: 'broker', destination: '{source}.dlq' },
      metrics: { enabled: false },
    });
    const sluice = await Sluice.create(config, silent);
    await sluice.start();
    await eventually(() => sluice.pipeline.stats.completed >= 301, 10_000, 'all events');
    await sluice.stop();
    for (const key of ['k0', 'k1']) {
      const out = records(`${to}-${key}`);
      const numbers = out.map((r) => Number(r.payload.toString()));
      // Per-key order kept end to end (one partition per key in the memory broker).
      expect(numbers).toEqual(Array.from({ length: 150 }, (_, i) => i * 2 + (key === 'k1' ? 1 : 0)));
      expect(out.every((r) => r.key === key && r.headers.traceparent === `t${r.payload.toString()}`)).toBe(true);
    }
    const dead = records(`${from}.dlq`);
    expect(dead.map((r) => r.payload.toString())).toEqual(['no-key']);
    expect(dead[0]!.headers['sluice-error']).toContain('no key');
    expect(sluice.pipeline.stats.processed.dead_lettered).toBe(1);
    const metrics = await sluice.registry.getSingleMetricAsString('sluice_forward_events_total');
    expect(metrics).toMatch(/sluice_forward_events_total\{broker="memory",outcome="published"\} 300/);
  });

  it('holds the source event until the destination confirmed: a failing destination leaves it unacked', async () => {
    const from = unique('fwd-fail-in');
    await publish(from, [{ key: 'a', payload: '1' }]);
    const config = await validateConfig({
      broker: { type: 'memory', memory: { topic: from, group: unique('g'), nackDelayMs: 5 } },
      // An http destination at a port nothing listens on: every publish fails (retriable), so the event is nacked.
      handler: {
        retry: { maxAttempts: 2, initialBackoffMs: 1 },
        forward: {
          broker: { type: 'http', http: { publishUrl: 'http://127.0.0.1:1/v1/events' } },
          destination: 'nowhere',
        },
      },
      metrics: { enabled: false },
    });
    const sluice = await Sluice.create(config, silent);
    await sluice.start();
    await eventually(() => sluice.pipeline.stats.processed.failed >= 1, 20_000, 'a failed forward');
    expect(sluice.pipeline.stats.processed.success).toBe(0);
    await sluice.stop();
  });

  it('sluice replay republishes dead letters as the original events', async () => {
    const original = unique('orders');
    const dlq = `${original}.dlq`;
    const originals = Array.from({ length: 50 }, (_, n) => ({ key: `k${n % 5}`, payload: String(n), headers: { tenant: 'acme' } }));
    await publish(
      dlq,
      originals.map((e, n) => ({
        ...e,
        headers: deadLetterHeaders(
          { ...e, source: original, id: String(n), position: { partition: '0', offset: String(n) } } as unknown as SourceEvent,
          new Error('x'),
          3,
        ),
      })),
    );
    const loaded = await validateConfig({ broker: { type: 'memory' }, handler: { module: 'log' }, metrics: { enabled: false } });
    const config = await replayConfig(loaded, { from: dlq, to: '{header.sluice-source}' });
    const sluice = await Sluice.create(config, silent);
    await sluice.start();
    await eventually(() => sluice.pipeline.stats.completed >= 50, 10_000, 'replayed');
    await sluice.stop();
    const out = records(original);
    expect(out.map((r) => Number(r.payload.toString())).sort((a, b) => a - b)).toEqual(originals.map((_, n) => n));
    expect(out.every((r) => JSON.stringify(r.headers) === JSON.stringify({ tenant: 'acme' }))).toBe(true);
    expect(out.every((r) => r.key === `k${Number(r.payload.toString()) % 5}`)).toBe(true);
  });
});
