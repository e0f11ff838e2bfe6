import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sluice } from '../../src/app.ts';
import { validateConfig } from '../../src/config/load.ts';
import { eventually, silent } from './helpers.ts';

const topic = () => `app-${Math.random().toString(36).slice(2, 8)}`;

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : NaN;
}

describe('Sluice app on the memory broker', () => {
  it('runs end to end with synthetic load and serves metrics, health and readiness', async () => {
    const config = await validateConfig({
      broker: { type: 'memory', memory: { topic: topic(), load: { enabled: true, rate: 2000, payloadSize: 100, keys: 10 } } },
      metrics: { port: 0, host: '127.0.0.1' },
      handler: { module: 'noop' },
    });
    const sluice = await Sluice.create(config, silent);
    await sluice.start();
    const port = sluice.metricsPort!;
    await eventually(() => sluice.pipeline.stats.completed > 200, 10_000, 'processed events');
    const text = await metricsText(port);
    for (const name of [
      'sluice_events_received_total',
      'sluice_events_processed_total',
      'sluice_queue_depth',
      'sluice_queue_capacity',
      'sluice_queue_bytes',
      'sluice_workers_busy',
      'sluice_workers',
      'sluice_source_paused',
      'sluice_processing_duration_seconds_bucket',
      'sluice_end_to_end_latency_seconds_count',
      'sluice_source_lag_events',
      'sluice_source_lag_seconds',
      'sluice_source_commits_total',
      'sluice_source_commit_errors_total',
    ]) {
      expect(text, name).toMatch(new RegExp(`^${name}\\{[^}]*broker="memory"`, 'm'));
    }
    expect(sample(text, 'sluice_events_processed_total', 'outcome="success"')).toBeGreaterThan(200);
    expect(sample(text, 'sluice_queue_capacity')).toBe(10_000);
    expect(sample(text, 'sluice_workers')).toBe(16);
    expect(sample(text, 'sluice_end_to_end_latency_seconds_count')).toBeGreaterThan(200);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true });
    await sluice.stop();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('runs a user ES module handler in worker threads (pool.mode threads)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-handler-'));
    const module = join(dir, 'handler.mjs');
    // CPU-bound work in the thread; the thread id proves it ran off the main thread.
    await writeFile(
      module,
      `import { threadId } from 'node:worker_threads';
       export default async function (event) {
         if (threadId === 0) throw new Error('ran on the main thread');
         if (event.payload.toString().includes('poison')) throw new Error('poison payload');
         let x = 0; for (let i = 0; i < 1e4; i++) x += i;
         return x;
       }`,
    );
    const name = topic();
    const config = await validateConfig({
      broker: { type: 'memory', memory: { topic: name } },
      pool: { mode: 'threads', threads: 2, size: 4 },
      handler: { module, retry: { maxAttempts: 2, initialBackoffMs: 1 } },
      deadLetter: { type: 'file', path: join(dir, 'dlq.jsonl') },
      metrics: { enabled: false },
    });
    const sluice = await Sluice.create(config, silent);
    await sluice.start();
    const { MemoryBroker } = await import('../../adapters/memory/memory-broker.ts');
    const events = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, payload: Buffer.from(i === 7 ? 'poison' : `ok ${i}`) }));
    await MemoryBroker.shared('default').publish(name, events);
    await eventually(() => sluice.pipeline.stats.completed === 50, 20_000, '50 events');
    await sluice.stop();
    expect(sluice.pipeline.stats.processed).toMatchObject({ success: 49, dead_lettered: 1 });
  });

  it('dead-letters to a topic of the broker ({source}.dlq) with the error in headers, and goes on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-handler-'));
    const module = join(dir, 'handler.mjs');
    await writeFile(
      module,
      `export default function (event, context) { if (context.value.poison) throw new Error('poison ' + context.value.n); }`,
    );
    const name = topic();
    const config = await validateConfig({
      broker: { type: 'memory', memory: { topic: name } },
      handler: { module, decode: 'json', retry: { maxAttempts: 2, initialBackoffMs: 1 } },
      deadLetter: { type: 'broker' },
      metrics: { enabled: false },
    });
    const sluice = await Sluice.create(config, silent);
    await sluice.start();
    const { MemoryBroker } = await import('../../adapters/memory/memory-broker.ts');
    const broker = MemoryBroker.shared('default');
    const events = Array.from({ length: 20 }, (_, n) => ({ key: `k${n}`, payload: Buffer.from(JSON.stringify({ n, poison: n === 4 })) }));
    events.push({ key: 'bad', payload: Buffer.from('not json') });
    await broker.publish(name, events);
    await eventually(() => sluice.pipeline.stats.completed === 21, 10_000, '21 events');
    await sluice.stop();
    expect(sluice.pipeline.stats.processed).toMatchObject({ success: 19, dead_lettered: 2 });
    const letters = broker.topic(`${name}.dlq`).partitions.flatMap((p) => p.records);
    expect(letters.map((r) => r.headers['sluice-error']).sort()).toEqual([expect.stringMatching(/not JSON/), 'poison 4']);
    expect(letters.find((r) => r.key === 'k4')!.headers).toMatchObject({
      'sluice-attempts': '2',
      'sluice-source': name,
      'sluice-error-type': 'Error',
    });
  });

  it('refuses a handler module without a default function export, naming the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-handler-'));
    const module = join(dir, 'bad.mjs');
    await writeFile(module, 'export const handler = () => {};');
    const config = await validateConfig({ handler: { module }, metrics: { enabled: false } });
    await expect(Sluice.create(config, silent)).rejects.toThrow(/handler\.module/);
  });
});
