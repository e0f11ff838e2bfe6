import { readFile } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { HttpMetrics } from '../../adapters/http/metrics.ts';
import { KafkaMetrics } from '../../adapters/kafka/kafka-metrics.ts';
import { KinesisMetrics } from '../../adapters/kinesis/metrics.ts';
import { MemoryBroker } from '../../adapters/memory/memory-broker.ts';
import { PubSubMetrics } from '../../adapters/pubsub/metrics.ts';
import { installFaults } from '../../src/faults/install.ts';
import { NO_FAULTS } from '../../src/faults/fault-state.ts';
import { registerPipelineMetrics } from '../../src/metrics/prometheus.ts';
import { memoryPipeline, silent } from './helpers.ts';

/**
 * The names on `registry`, histograms with their _bucket, _sum and _count series. The adapters'
 * own series (sluice_<broker>_*) are in: alert rules and dashboards may use them too (none do yet:
 * lag and commits are the shared sluice_source_* series every source exports), and a renamed one
 * fails here wherever it is still used.
 */
async function metricNames(): Promise<Set<string>> {
  const registry = new Registry();
  KafkaMetrics.for(registry);
  new KinesisMetrics(registry, 'stream');
  PubSubMetrics.for(registry);
  HttpMetrics.for(registry);
  const { pipeline } = memoryPipeline(new MemoryBroker(), () => undefined);
  registerPipelineMetrics(registry, pipeline, 'memory');
  // Present only with fault injection enabled; the dashboard shows it.
  installFaults({ ...NO_FAULTS, enabled: true }, silent, registry, 'memory', new AbortController().signal);
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (metric.type === ('histogram' as never)) for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

const referenced = (expr: string) => [...expr.matchAll(/\b(sluice_[a-z_]+)/g)].map((m) => m[1]!);

interface DashboardModel {
  panels: {
    id: number;
    type: string;
    title: string;
    repeat?: string;
    gridPos: { x: number; y: number; w: number; h: number };
    targets?: { expr: string }[];
  }[];
  templating: { list: { name: string; query?: string }[] };
}

async function dashboard(): Promise<DashboardModel> {
  return JSON.parse(await readFile('deploy/helm/sluice/files/grafana-dashboard.json', 'utf8')) as DashboardModel;
}

describe('alert rules and dashboard', () => {
  it('alert rules are well formed and use only metrics Sluice exports', async () => {
    const names = await metricNames();
    const rules = parse(await readFile('deploy/helm/sluice/files/prometheus-alerts.yaml', 'utf8')) as {
      groups: { rules: { alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } }[] }[];
    };
    const all = rules.groups.flatMap((group) => group.rules);
    expect(all.length).toBeGreaterThan(5);
    for (const rule of all) {
      expect(rule.alert).toMatch(/^Sluice/);
      expect(['page', 'ticket']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toBeTruthy();
      for (const metric of referenced(rule.expr)) expect([...names], `${rule.alert}: ${metric}`).toContain(metric);
    }
  });

  it('dashboard panels query only metrics Sluice exports', async () => {
    const names = await metricNames();
    const exprs = (await dashboard()).panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
    expect(exprs.length).toBeGreaterThan(8);
    for (const expr of exprs) for (const metric of referenced(expr)) expect([...names], metric).toContain(metric);
  });

  it('dashboard is a well-formed Grafana model: unique ids, panels on the 24-column grid, one row per broker', async () => {
    const { panels, templating } = await dashboard();
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length);
    for (const panel of panels) {
      const { x, w, h } = panel.gridPos;
      expect(x + w, `${panel.title} fits the grid`).toBeLessThanOrEqual(24);
      expect(h, `${panel.title} has a height`).toBeGreaterThan(0);
      if (panel.type !== 'row') expect(panel.targets?.length, `${panel.title} has queries`).toBeGreaterThan(0);
    }
    const broker = templating.list.find((variable) => variable.name === 'broker');
    expect(broker?.query).toMatch(/label_values\(sluice_\w+, broker\)/);
    expect(panels.filter((panel) => panel.type === 'row' && panel.repeat === 'broker')).toHaveLength(1);
    // Every panel after the repeated row is in it, so each query is scoped to that row's broker.
    const row = panels.findIndex((panel) => panel.repeat === 'broker');
    for (const panel of panels.slice(row + 1))
      for (const target of panel.targets ?? []) expect(target.expr, panel.title).toContain('broker=~"$broker"');
  });
});
