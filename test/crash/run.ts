// `npm run crash-restart [-- --quick] [--only <substring>] [--out file.json]`: runs every
// scenario of the crash-restart harness (registry.ts) against the local brokers, prints one
// table, and exits 1 if any row fails (scenario.ts rowFailures). Brokers not running are started
// (deploy/local, as the integration tests do) and stopped again afterwards unless
// SLUICE_BROKERS_KEEP=1. Sluice runs compiled (the npm script builds first), as users run it.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { brokersDown, brokersUp } from '../../deploy/local/broker-manager.ts';
import type { BrokerName } from '../../deploy/local/endpoints.ts';
import { type ScenarioContext, SCENARIOS } from './registry.ts';
import { rowFailures, type ScenarioRow } from './scenario.ts';
import { formatTable } from './table.ts';

const COMPILED = 'dist/src/cli/sluice.js';
const log = (line: string) => process.stderr.write(`[crash] ${line}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' }, out: { type: 'string' } },
  });
  const only = values.only?.toLowerCase();
  const started = Date.now();
  if (!existsSync(COMPILED)) throw new Error(`${COMPILED} is missing: run \`npm run build\` (npm run crash-restart does)`);
  const wanted = [...new Set(SCENARIOS.flatMap((scenario) => scenario.brokers))] as BrokerName[];
  const outcomes = await brokersUp(wanted, (line) => log(`brokers: ${line}`));
  const failed = outcomes.filter((outcome) => outcome.state === 'failed');
  const ours = outcomes.filter((outcome) => outcome.state === 'started').map((outcome) => outcome.name);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-crash-'));
  const rows: ScenarioRow[] = [];
  let crashed: unknown;
  try {
    if (failed.length > 0) throw new Error(`brokers failed to start: ${failed.map((outcome) => outcome.name).join(', ')}`);
    const context: ScenarioContext = {
      quick: values.quick,
      wants: (scenario, broker) => !only || `${scenario} / ${broker}`.toLowerCase().includes(only),
      dir,
      entry: [COMPILED],
      log,
    };
    for (const scenario of SCENARIOS) {
      const from = Date.now();
      const produced = await scenario.run(context);
      rows.push(...produced);
      if (produced.length > 0) log(`${scenario.name}: ${produced.length} row(s) in ${((Date.now() - from) / 1000).toFixed(0)} s`);
    }
  } catch (error) {
    crashed = error;
  } finally {
    if (process.env.SLUICE_BROKERS_KEEP !== '1' && ours.length > 0) await brokersDown(ours, (line) => log(`brokers: ${line}`));
    // Kept when something failed: the records (<row>.run<N>.txt) and audit files show what happened.
    if (crashed === undefined && rows.every((row) => rowFailures(row).length === 0)) await rm(dir, { recursive: true, force: true });
    else log(`scratch files (records, audit files) kept in ${dir}`);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stdout.write(
    `\ncrash-restart (${values.quick ? 'quick' : 'full'}), ${rows.length} row(s), ${seconds} s\n\n${formatTable(rows)}\n`,
  );
  if (values.out) await writeFile(values.out, `${JSON.stringify({ mode: values.quick ? 'quick' : 'full', seconds, rows }, null, 2)}\n`);
  if (crashed !== undefined) {
    log(`harness failed: ${crashed instanceof Error ? (crashed.stack ?? crashed.message) : String(crashed)}`);
    return 1;
  }
  if (rows.length === 0) {
    log(`no row matched --only ${values.only ?? ''}`);
    return 1;
  }
  const failing = rows.filter((row) => rowFailures(row).length > 0);
  if (failing.length > 0) log(`${failing.length} row(s) failed`);
  return failing.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`harness failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
