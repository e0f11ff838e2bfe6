// The shared lag vocabulary (src/metrics/source-metrics.ts), read through the memory broker as
// the composition root registers it: lag grows with a backlog, its age with time, and both fall
// to 0 once everything is processed and committed.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../adapters/memory/memory-broker.ts';
import { registerPipelineMetrics } from '../../src/metrics/prometheus.ts';
import { eventually, memoryPipeline, numbered, sleep } from './helpers.ts';

async function samples(registry: Registry, name: string): Promise<{ labels: Partial<Record<string, string | number>>; value: number }[]> {
  return (await registry.getSingleMetric(name)!.get()).values;
}

async function total(registry: Registry, name: string): Promise<number> {
  return (await samples(registry, name)).reduce((sum, sample) => sum + sample.value, 0);
}

async function max(registry: Registry, name: string): Promise<number> {
  return Math.max(0, ...(await samples(registry, name)).map((sample) => sample.value));
}

describe('source lag metrics (memory broker)', () => {
  it('rise with a backlog, age while it waits, and return to 0 once drained', async () => {
    const broker = new MemoryBroker();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { pipeline } = memoryPipeline(broker, () => gate, { topic: 'lagging' });
    const registry = new Registry();
    registerPipelineMetrics(registry, pipeline, 'memory');
    await pipeline.start();
    try {
      // Nothing published yet: every partition is there, at 0.
      const idle = await samples(registry, 'sluice_source_lag_events');
      expect(idle.map((sample) => sample.labels)).toContainEqual({ broker: 'memory', source: 'lagging', partition: 'lagging/0' });
      expect(await total(registry, 'sluice_source_lag_events')).toBe(0);
      expect(await max(registry, 'sluice_source_lag_seconds')).toBe(0);
      expect(await total(registry, 'sluice_source_commit_errors_total')).toBe(0);

      const published = Date.now();
      await broker.publish('lagging', numbered(500));
      await eventually(() => pipeline.stats.received >= 100, 5_000, 'the queue to fill');
      await sleep(120);
      // Workers hold 4, the queue the rest of what was read: none acked, none committed.
      expect(await total(registry, 'sluice_source_lag_events')).toBe(500);
      const age = await max(registry, 'sluice_source_lag_seconds');
      expect(age).toBeGreaterThanOrEqual(0.1);
      expect(age).toBeLessThanOrEqual((Date.now() - published) / 1000 + 0.01);

      release();
      await eventually(() => pipeline.stats.processed.success === 500, 10_000, 'the backlog to drain');
      const deadline = Date.now() + 5_000;
      while ((await total(registry, 'sluice_source_lag_events')) !== 0) {
        if (Date.now() > deadline) throw new Error('lag did not return to 0 after the commits');
        await sleep(10);
      }
      expect(await max(registry, 'sluice_source_lag_seconds')).toBe(0);
      expect(await total(registry, 'sluice_source_commits_total')).toBeGreaterThan(0);
      expect(await total(registry, 'sluice_source_commit_errors_total')).toBe(0);
    } finally {
      release();
      await pipeline.stop();
    }
  });
});
