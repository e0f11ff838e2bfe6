import { readFile } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../adapters/memory/memory-broker.ts';
import { registerPipelineMetrics } from '../../src/metrics/prometheus.ts';
import { memoryPipeline } from './helpers.ts';

/**
 * Broker-specific metrics (sluice_<broker>_<thing>) that alert rules and dashboards may use too.
 * None yet: lag and commits are the shared sluice_source_* series every source exports.
 */
const ADAPTER_METRICS: string[] = [];

async function coreMetricNames(): Promise<Set<string>> {
  const registry = new Registry();
  const { pipeline } = memoryPipeline(new MemoryBroker(), () => undefined);
  registerPipelineMetrics(registry, pipeline, 'memory');
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (metric.type === ('histogram' as never)) for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

const referenced = (expr: string) => [...expr.matchAll(/\b(sluice_[a-z_]+)/g)].map((m) => m[1]!);

describe('alert rules and dashboard', () => {
  it('alert rules are well formed and use only metrics Sluice exports', async () => {
    const names = await coreMetricNames();
    const rules = parse(await readFile('deploy/helm/sluice/files/prometheus-alerts.yaml', 'utf8')) as {
      groups: { rules: { alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } }[] }[];
    };
    const all = rules.groups.flatMap((group) => group.rules);
    expect(all.length).toBeGreaterThan(5);
    for (const rule of all) {
      expect(rule.alert).toMatch(/^Sluice/);
      expect(['page', 'ticket']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toBeTruthy();
      for (const metric of referenced(rule.expr)) expect([...names, ...ADAPTER_METRICS], `${rule.alert}: ${metric}`).toContain(metric);
    }
  });

  it('dashboard panels query only metrics Sluice exports', async () => {
    const names = await coreMetricNames();
    const dashboard = JSON.parse(await readFile('deploy/helm/sluice/files/grafana-dashboard.json', 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
    expect(exprs.length).toBeGreaterThan(8);
    for (const expr of exprs) for (const metric of referenced(expr)) expect([...names, ...ADAPTER_METRICS], metric).toContain(metric);
  });
});
