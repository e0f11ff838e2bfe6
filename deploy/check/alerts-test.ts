// `npm run alerts:test`: `promtool test rules` on deploy/observability/alerts.test.yaml, the unit
// tests of Sluice's alert rules, then the dashboard's queries parsed by promtool (dashboard-check.ts). Each case injects a fault at t = 60 s and checks the alert is
// pending one evaluation before it fires and firing at the next, so the test states each rule's
// detection time. Also a step of `npm run deploy:check`.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../local/paths.ts';
import { checkDashboardQueries } from './dashboard-check.ts';
import { promtool } from './tools.ts';

export const ALERT_TESTS = join(repoRoot, 'deploy', 'observability', 'alerts.test.yaml');

/** Runs the rule unit tests with `promtoolBin`; throws (promtool printed why) when one fails. */
export function testAlertRules(promtoolBin: string): void {
  execFileSync(promtoolBin, ['test', 'rules', ALERT_TESTS], { stdio: 'inherit' });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const bin = promtool();
    testAlertRules(bin);
    console.log(`dashboard: ${checkDashboardQueries(bin)} panel queries parsed by promtool`);
  } catch {
    process.exitCode = 1;
  }
}
