// Grafana is not in this machine's registries, so the dashboard's queries are checked by the
// Prometheus that would run them: each panel query becomes a recording rule (template variables
// replaced by what Grafana would put there) and `promtool check rules` parses it. A query with a
// PromQL error fails here, not on an operator's screen. The unit test
// (test/unit/observability.test.ts) checks the model's structure and that every series exists.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from '../local/paths.ts';

export const DASHBOARD = join(repoRoot, 'deploy', 'helm', 'sluice', 'files', 'grafana-dashboard.json');

/** Grafana's template variables and what the check substitutes (any valid value will do). */
const VARIABLES: Record<string, string> = { $broker: '.*', $__rate_interval: '1m', $__interval: '15s' };

/** Parses every panel query of the dashboard with promtool; throws naming the panel on an error. */
export function checkDashboardQueries(promtoolBin: string): number {
  const model = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
  const rules = model.panels.flatMap((panel, p) =>
    (panel.targets ?? []).map((target, t) => ({
      // The record name carries the panel's title, so that promtool's error names the panel.
      record: `dashboard:${p}_${panel.title.toLowerCase().replace(/[^a-z0-9]+/g, '_')}:${t}`,
      expr: Object.entries(VARIABLES).reduce((expr, [name, value]) => expr.replaceAll(name, value), target.expr),
      labels: { panel: panel.title },
    })),
  );
  const dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-'));
  try {
    const file = join(dir, 'dashboard-queries.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    execFileSync(promtoolBin, ['check', 'rules', file], { stdio: 'inherit' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rules.length;
}
