// Scenario "sigkill x3" (issue #12): a backlog of unique sequence numbers over 64 keys; `sluice
// run` with a recording handler is SIGKILLed at a random moment 4–8 s after each of three starts
// (counted from the run's first processed event: see below), then started once more and left to
// drain. Counts lost, duplicates and per-key out-of-order first deliveries, times each resume and
// the drain, and verifies the ack audit.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatAuditReport, verifyAudit } from '../../src/audit/verify.ts';
import type { ScenarioContext } from './registry.ts';
import type { ScenarioRow } from './scenario.ts';
import { countDeliveries } from './deliveries.ts';
import { collectRows } from './members.ts';
import { processedRecords, runSluice, writeRecordingConfig } from './sluice-child.ts';
import { type CrashTarget, crashTargets } from './targets.ts';

export const SIGKILL_SCENARIO = 'sigkill x3';

const KEYS = 64;
const KILLS = 3;

interface Sizes {
  events: (target: CrashTarget) => number;
  /** The recording handler's time per event. */
  handlerMs: number;
  /**
   * kafkajs' group session (undefined: the default 30 s). A kafkajs restart waits for the killed
   * member's session to expire; CI shortens the wait (the resume scenario measures the trade-off).
   */
  kafkajsSessionTimeoutMs?: number;
  /** A kill comes uniformly at random in [min, max) ms after a start. */
  killAfterMs: { min: number; max: number };
  drainTimeoutMs: number;
  /** The final run gives up once no new event came for this long (events the broker will not deliver again). */
  stallMs: number;
}

const FULL: Sizes = {
  events: (target) => (target.label.startsWith('pubsub') ? 20_000 : 40_000),
  handlerMs: 4,
  killAfterMs: { min: 4_000, max: 8_000 },
  drainTimeoutMs: 240_000,
  stallMs: 60_000,
};

/**
 * CI: fewer events and a slower handler (15 ms: at most ~1,000 events/s with 16 workers), so that
 * all three kills still come mid-stream; the same kill window. Pub/Sub gets fewer: an ordered
 * subscription on pstest hands out one message per key at a time.
 */
const QUICK: Sizes = {
  events: (target) => (target.label.startsWith('pubsub') ? 10_000 : 24_000),
  handlerMs: 15,
  kafkajsSessionTimeoutMs: 10_000,
  killAfterMs: { min: 4_000, max: 8_000 },
  drainTimeoutMs: 150_000,
  // The gcloud emulator has gone 46 s without redelivering a killed client's expired 10 s leases
  // (CI, 2026-11-27: 200 "lost" that a longer wait would have seen); 75 s only costs time when
  // the broker really stalls, and an event still missing then is still a loss.
  stallMs: 75_000,
};

export async function sigkillScenario(context: ScenarioContext, targets: CrashTarget[] = crashTargets()): Promise<ScenarioRow[]> {
  return collectRows(
    context,
    SIGKILL_SCENARIO,
    targets,
    (target) => target.label,
    (target) => sigkillRow(context, target),
  );
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
    broker: withSession(prepared.broker, sizes.kafkajsSessionTimeoutMs),
    queue: { maxEvents: 2_000 },
    pool: { size: 16, orderByKey: true },
    deadLetter: { type: 'none' },
    audit: { file: auditFile },
  });
  const children = new Set<ChildProcess>();
  const outs: string[] = [];
  const resumeMs: number[] = [];
  const notes: string[] = [];
  const kafka = prepared.broker.kafka as { client?: string } | undefined;
  if (sizes.kafkajsSessionTimeoutMs !== undefined && kafka?.client === 'kafkajs')
    notes.push(`sessionTimeoutMs ${sizes.kafkajsSessionTimeoutMs} (quick; default 30000)`);
  let drainMs = Number.NaN;
  try {
    for (let run = 0; run <= KILLS; run++) {
      const out = join(context.dir, `${name}.run${run}.txt`);
      outs.push(out);
      const startedAt = Date.now();
      const loaded = `${out}.loaded`;
      const env = { ...prepared.env, SLUICE_TEST_LOADED: loaded };
      const child = runSluice(configPath, out, { children, env, entry: context.entry, delayMs: sizes.handlerMs });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (run < KILLS) {
        // The kill window starts when this run has started working: its first processed event
        // (or, if none comes, 60 s after its handler loaded). Counted from the spawn, a loaded
        // machine's start-up, a Kafka group waiting out a dead member's session or an ordered
        // Pub/Sub key waiting for a dead client's leases would swallow the window, and a kill of a
        // run that processed nothing tests nothing.
        await untilExists(loaded, 60_000, exited);
        await untilProcessing(out, 60_000, exited);
        const killAfter = sizes.killAfterMs.min + Math.random() * (sizes.killAfterMs.max - sizes.killAfterMs.min);
        await Promise.race([sleep(killAfter), exited]);
        if (child.exitCode !== null) throw new Error(`sluice exited by itself (code ${child.exitCode}) in run ${run + 1}`);
        process.kill(child.pid!, 'SIGKILL');
        await exited;
      } else {
        await untilExists(loaded, 60_000, exited); // a SIGTERM before that would not be graceful
        const done = await drained(outs, events, sizes, child);
        drainMs = done === undefined ? Number.NaN : done - startedAt;
        if (done === undefined) notes.push(`final run stopped waiting after ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
        child.kill('SIGTERM');
        await exited;
        if (child.exitCode !== 0) notes.push(`final run exited ${child.exitCode ?? child.signalCode} on SIGTERM`);
      }
      const records = await processedRecords(out);
      const lifetime = Date.now() - startedAt;
      const doneBefore = run === KILLS && (await distinct(outs.slice(0, KILLS))) >= events;
      if (doneBefore) notes.push('backlog done before the final start: its resume is not counted');
      else if (run > 0) {
        // Resume: process start → first event it processed. A run killed before processing
        // anything has not resumed yet: its lifetime is a lower bound, said in the notes.
        resumeMs.push(records.length > 0 ? records[0]!.at - startedAt : lifetime);
        if (records.length === 0) notes.push(`run ${run + 1} processed nothing in ${(lifetime / 1000).toFixed(1)} s (resume > that)`);
      }
      const loadedAt = Number(await readFile(loaded, 'utf8').catch(() => Number.NaN));
      const first = records.length > 0 ? `, first after ${((records[0]!.at - startedAt) / 1000).toFixed(1)} s` : '';
      log(
        `run ${run + 1}: handler loaded after ${((loadedAt - startedAt) / 1000).toFixed(1)} s${first}, ` +
          `${records.length} processed in ${(lifetime / 1000).toFixed(1)} s${run < KILLS ? ', SIGKILL' : ''}`,
      );
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
    knownFault: target.knownFault,
    notes: notes.join('; ') || undefined,
  };
}

/**
 * Waits until every number 0..events-1 was recorded in `outs`: the time it was, or undefined
 * when `drainTimeoutMs` passed or no new number came for `stallMs` (a Kafka restart waits out
 * the session timeout, under a minute, before its first event; longer means lost).
 */
async function drained(outs: string[], events: number, sizes: Sizes, child: ChildProcess): Promise<number | undefined> {
  const deadline = Date.now() + sizes.drainTimeoutMs;
  const earlier = new Set<number>();
  for (const out of outs.slice(0, -1)) for (const { n } of await processedRecords(out)) earlier.add(n);
  const last = outs[outs.length - 1]!;
  let count = -1;
  let grewAt = Date.now();
  while (Date.now() < deadline && Date.now() - grewAt < sizes.stallMs && child.exitCode === null) {
    const records = await processedRecords(last);
    const seen = new Set(earlier);
    let completedAt: number | undefined;
    for (const { n, at } of records) {
      if (seen.has(n)) continue;
      seen.add(n);
      if (seen.size === events) completedAt = at;
    }
    if (seen.size >= events) return completedAt ?? Date.now();
    if (seen.size > count) {
      count = seen.size;
      grewAt = Date.now();
    }
    await sleep(200);
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Distinct numbers recorded in `outs`. */
async function distinct(outs: readonly string[]): Promise<number> {
  const seen = new Set<number>();
  for (const out of outs) for (const { n } of await processedRecords(out)) seen.add(n);
  return seen.size;
}

/** `broker` with kafkajs' session timeout set to `ms` (other brokers and clients unchanged). */
function withSession(broker: Record<string, unknown>, ms: number | undefined): Record<string, unknown> {
  const kafka = broker.kafka as Record<string, unknown> | undefined;
  if (ms === undefined || broker.type !== 'kafka' || kafka?.client !== 'kafkajs') return broker;
  return { ...broker, kafka: { ...kafka, sessionTimeoutMs: ms } };
}

/** Resolves once the run recording to `out` processed an event, `ms` passed, or `exited` resolved. */
async function untilProcessing(out: string, ms: number, exited: Promise<void>): Promise<void> {
  let over = false;
  void exited.then(() => (over = true));
  const deadline = Date.now() + ms;
  while (!over && Date.now() < deadline && (await processedRecords(out)).length === 0) await sleep(100);
}

/** Resolves once `file` exists, `ms` passed, or `exited` resolved. */
async function untilExists(file: string, ms: number, exited: Promise<void>): Promise<void> {
  let over = false;
  void exited.then(() => (over = true));
  const deadline = Date.now() + ms;
  while (!over && Date.now() < deadline && !existsSync(file)) await sleep(20);
}
