// The at-least-once crash test every adapter runs: a real `sluice run` child consumes a backlog,
// is killed with SIGKILL mid-stream (no graceful close, no final commit or nack), and a second
// one takes over. Every event must be processed at least once, and the ack audit of both runs
// must be clean (every id acked was completed first); the duplicates are reported.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { formatAuditReport, verifyAudit } from '../../src/audit/verify.ts';
import { processedNumbers, runSluice, waitFor, writeRecordingConfig } from '../crash/sluice-child.ts';

export { processedNumbers, runSluice, writeRecordingConfig } from '../crash/sluice-child.ts';

export interface CrashRestartOptions {
  /** A scratch folder of the test's. */
  dir: string;
  /** File names in `dir` are prefixed with this (several runs may share a folder). */
  name: string;
  /** The Sluice config without `handler`, `metrics`, `log` and `audit` (set here). */
  config: Record<string, unknown>;
  /** Events 0..events-1 were published as `{"n": <number>}` payloads. */
  events: number;
  /** Environment changes for the children; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Children started, so the test's afterAll can SIGKILL any left (by pid). */
  children: Set<ChildProcess>;
}

/** Kill at a third, restart, wait for all; asserts none is missing and the audit is clean. Returns what to report. */
export async function killMidStreamAndRestart(options: CrashRestartOptions): Promise<{ atKill: number; duplicates: number; acks: number }> {
  const { dir, name, events } = options;
  const out = join(dir, `${name}.processed.txt`);
  const auditFile = join(dir, `${name}.audit.ndjson`);
  const configPath = await writeRecordingConfig(dir, name, { ...options.config, audit: { file: auditFile } });

  const first = runSluice(configPath, out, options);
  await waitFor('a third of the events', 90_000, async () => (await processedNumbers(out)).length >= events / 3, first);
  process.kill(first.pid!, 'SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  const atKill = new Set(await processedNumbers(out)).size;
  expect(atKill, 'the kill must come mid-stream').toBeLessThan(events);

  const second = runSluice(configPath, out, options);
  await waitFor(`all ${events} events`, 120_000, async () => new Set(await processedNumbers(out)).size >= events, second);
  second.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => second.once('exit', (exitCode) => resolve(exitCode)));
  expect(code, 'graceful exit of the second consumer').toBe(0);

  const all = await processedNumbers(out);
  const seen = new Set(all);
  const missing = Array.from({ length: events }, (_, n) => n).filter((n) => !seen.has(n));
  expect(missing, 'events never processed').toEqual([]);
  const audit = await verifyAudit(auditFile);
  expect(audit.violations, formatAuditReport(audit)).toBe(0);
  expect(audit.runs, 'both runs wrote to the audit').toBe(2);
  expect(audit.acks, 'acks were audited').toBeGreaterThan(0);
  return { atKill, duplicates: all.length - seen.size, acks: audit.acks };
}
