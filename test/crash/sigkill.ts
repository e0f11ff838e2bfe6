// Scenario "sigkill x3" (issue #12): a backlog of unique sequence numbers over 64 keys; `sluice
// run` with a recording handler is SIGKILLed at a random moment 4–8 s after each of three
// starts, then started once more and left to drain. Counts lost, duplicates and per-key
// out-of-order first deliveries, times each resume and the drain, and verifies the ack audit.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { formatAuditReport, verifyAudit } from '../../src/audit/verify.ts';
import type { ScenarioContext } from './registry.ts';
import type { ScenarioRow } from './scenario.ts';
import { type Processed, processedRecords, runSluice, writeRecordingConfig } from './sluice-child.ts';
import { type CrashTarget, crashTargets } from './targets.ts';

export const SIGKILL_SCENARIO = 'sigkill x3';

const KEYS = 64;
const KILLS = 3;

interface Sizes {
  events: (target: CrashTarget) => number;
  /** A kill comes uniformly at random in [min, max) ms after a start. */
  killAfterMs: { min: number; max: number };
  drainTimeoutMs: number;
}

const FULL: Sizes = {
  events: (target) => (target.label.startsWith('pubsub') ? 20_000 : 40_000),
  killAfterMs: { min: 4_000, max: 8_000 },
  drainTimeoutMs: 240_000,
};

/** CI: fewer events, the same kill window (a start takes seconds; shorter windows kill before work). */
const QUICK: Sizes = {
  events: (target) => (target.label.startsWith('pubsub') ? 8_000 : 12_000),
  killAfterMs: { min: 4_000, max: 8_000 },
  drainTimeoutMs: 150_000,
};

export async function sigkillScenario(context: ScenarioContext, targets: CrashTarget[] = crashTargets()): Promise<ScenarioRow[]> {
  const rows: ScenarioRow[] = [];
  for (const target of targets) {
    if (!context.wants(SIGKILL_SCENARIO, target.label)) continue;
    try {
      rows.push(await sigkillRow(context, target));
    } catch (error) {
      context.log(
        `[${SIGKILL_SCENARIO} / ${target.label}] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      const reason = error instanceof Error ? error.message : String(error);
      rows.push({
        scenario: SIGKILL_SCENARIO,
        broker: target.label,
        events: 0,
        lost: 0,
        duplicates: 0,
        drainMs: Number.NaN,
        audit: 'off',
        error: reason,
      });
    }
  }
  return rows;
}

/** One row: prepare the backlog, kill three times, drain, count. */
export async function sigkillRow(context: ScenarioContext, target: CrashTarget): Promise<ScenarioRow> {
  const sizes = context.quick ? QUICK : FULL;
  const events = sizes.events(target);
  const name = target.label.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '');
  const log = (line: string) => context.log(`[${SIGKILL_SCENARIO} / ${target.label}] ${line}`);
  log(`publishing ${events} events over ${KEYS} keys`);
  const prepared = await target.prepare({ events, keys: KEYS });
  const auditFile = join(context.dir, `${name}.audit.ndjson`);
  const configPath = await writeRecordingConfig(context.dir, name, {
    broker: prepared.broker,
    queue: { maxEvents: 2_000 },
    pool: { size: 16, orderByKey: true },
    deadLetter: { type: 'none' },
    audit: { file: auditFile },
  });
  const children = new Set<ChildProcess>();
  const outs: string[] = [];
  const resumeMs: number[] = [];
  const notes: string[] = [];
  let drainMs = Number.NaN;
  try {
    for (let run = 0; run <= KILLS; run++) {
      const out = join(context.dir, `${name}.run${run}.txt`);
      outs.push(out);
      const startedAt = Date.now();
      const child = runSluice(configPath, out, { children, env: prepared.env, entry: context.entry, delayMs: 4 });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (run < KILLS) {
        const killAfter = sizes.killAfterMs.min + Math.random() * (sizes.killAfterMs.max - sizes.killAfterMs.min);
        await Promise.race([sleep(killAfter), exited]);
        if (child.exitCode !== null) throw new Error(`sluice exited by itself (code ${child.exitCode}) in run ${run + 1}`);
        process.kill(child.pid!, 'SIGKILL');
        await exited;
      } else {
        const done = await drained(outs, events, sizes.drainTimeoutMs, child);
        drainMs = done === undefined ? Number.NaN : done - startedAt;
        child.kill('SIGTERM');
        await exited;
        if (child.exitCode !== 0) notes.push(`final run exited ${child.exitCode ?? child.signalCode} on SIGTERM`);
      }
      const records = await processedRecords(out);
      const lifetime = Date.now() - startedAt;
      if (run > 0) {
        // Resume: process start → first event it processed. A run killed before processing
        // anything has not resumed yet: its lifetime is a lower bound, said in the notes.
        resumeMs.push(records.length > 0 ? records[0]!.at - startedAt : lifetime);
        if (records.length === 0) notes.push(`run ${run + 1} processed nothing in ${(lifetime / 1000).toFixed(1)} s (resume > that)`);
      }
      log(`run ${run + 1}: ${records.length} processed in ${(lifetime / 1000).toFixed(1)} s${run < KILLS ? ', SIGKILL' : ''}`);
    }
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await prepared.cleanup().catch((error: unknown) => log(`cleanup failed: ${String(error)}`));
  }
  const runs = await Promise.all(outs.map((out) => processedRecords(out)));
  const counts = countDeliveries(runs.flat(), events, target.ordered);
  const audit = await verifyAudit(auditFile);
  if (audit.violations > 0) log(formatAuditReport(audit));
  if (counts.lost > 0) notes.push(`lost e.g. ${counts.lostExamples.join(', ')}`);
  const beforeLastKill = new Set(runs.slice(0, KILLS).flatMap((records) => records.map((r) => r.n))).size;
  if (beforeLastKill >= events) notes.push('backlog done before the last kill');
  return {
    scenario: SIGKILL_SCENARIO,
    broker: target.label,
    events,
    lost: counts.lost,
    duplicates: counts.duplicates,
    orderViolations: target.ordered ? counts.orderViolations : undefined,
    resumeMs,
    drainMs,
    audit: { acks: audit.acks, violations: audit.violations },
    notes: notes.join('; ') || undefined,
  };
}

/**
 * Lost (never recorded), duplicates (records beyond the first per number) and per-key order
 * violations: first deliveries of a key whose number is below one first-delivered before it
 * (records in run order, and in each run in the order the handler wrote them).
 */
export function countDeliveries(
  records: readonly Processed[],
  events: number,
  ordered: boolean,
): { lost: number; lostExamples: number[]; duplicates: number; orderViolations: number } {
  const seen = new Set<number>();
  const highest = new Map<string, number>();
  let orderViolations = 0;
  for (const { n, key } of records) {
    if (seen.has(n)) continue;
    seen.add(n);
    if (!ordered) continue;
    const before = highest.get(key);
    if (before !== undefined && n < before) orderViolations++;
    else highest.set(key, n);
  }
  const lostExamples: number[] = [];
  let lost = 0;
  for (let n = 0; n < events; n++) {
    if (seen.has(n)) continue;
    lost++;
    if (lostExamples.length < 5) lostExamples.push(n);
  }
  return { lost, lostExamples, duplicates: records.length - seen.size, orderViolations };
}

/** Waits until every number 0..events-1 was recorded in `outs`; the time it was, or undefined on timeout. */
async function drained(outs: string[], events: number, timeoutMs: number, child: ChildProcess): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  const earlier = new Set<number>();
  for (const out of outs.slice(0, -1)) for (const { n } of await processedRecords(out)) earlier.add(n);
  const last = outs[outs.length - 1]!;
  while (Date.now() < deadline && child.exitCode === null) {
    const records = await processedRecords(last);
    const seen = new Set(earlier);
    let completedAt: number | undefined;
    for (const { n, at } of records) {
      if (seen.has(n)) continue;
      seen.add(n);
      if (seen.size === events) completedAt = at;
    }
    if (seen.size >= events) return completedAt ?? Date.now();
    await sleep(200);
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
