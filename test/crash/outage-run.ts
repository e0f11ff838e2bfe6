// One broker outage, measured from outside: a real `sluice run` child reads a backlog with the
// recording handler; a quarter of the way through, the broker goes away (`cut`) for `outageMs`
// and comes back (`restore`); once every event was processed and nothing new was recorded for a
// while, Sluice is stopped with SIGTERM and the records are counted: lost and duplicates.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { processedNumbers, runSluice, writeRecordingConfig } from './sluice-child.ts';
import { formatAuditReport, verifyAudit } from '../../src/audit/verify.ts';
import { rowFailures, type ScenarioRow } from './scenario.ts';

/** What every broker's outage row is given: the backlog, the outage, the pipeline's sizes. */
export interface OutageOptions {
  events: number;
  keys: number;
  outageMs: number;
  queue: number;
  pool: number;
  dir: string;
  children: Set<ChildProcess>;
  log: (msg: string) => void;
  entry?: readonly string[];
}

export interface OutagePlan {
  /** Broker column of the row, e.g. `kafka (kafkajs)`. */
  broker: string;
  /** File-name prefix in `dir`. */
  name: string;
  dir: string;
  events: number;
  outageMs: number;
  /** Sluice config without handler, metrics and log. */
  config: { queue: { maxEvents: number }; pool: { size: number; orderByKey?: boolean } } & Record<string, unknown>;
  env?: Record<string, string | undefined>;
  /** Takes the broker away (stops it, or cuts the proxy in front of it). */
  cut(): Promise<void>;
  /** Brings it back; resolves once it serves again. */
  restore(): Promise<void>;
  /** How long nothing new may be recorded before the run counts as settled. */
  quietMs?: number;
  /**
   * True once the broker holds every event as done (Kafka: the group committed the end of every
   * partition), so nothing can come again. Without it, quietMs alone decides.
   */
  settled?: () => Promise<boolean>;
  /** Longest wait for every event after the restore. */
  drainTimeoutMs?: number;
  children: Set<ChildProcess>;
  log?: (msg: string) => void;
  /** How to start sluice (default: the sources through tsx). */
  entry?: readonly string[];
  /** Why the row carries no duplicates bound (measured and reported only), if it does not. */
  unbounded?: string;
}

export const SCENARIO = (outageMs: number) => `broker outage ${Math.round(outageMs / 1000)}s`;

/** Unique names per run (topics, groups, streams, subscriptions). */
export const uniqueName = (prefix: string): string => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/**
 * What the issue allows: everything in the queue plus what the source held or the pool ran when
 * the broker went away (a fetched batch of up to 500 plus the pool), as "≤ 2,500" for queue 2,000.
 */
export const duplicatesBound = (plan: Pick<OutagePlan, 'config'>): number => plan.config.queue.maxEvents + 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runOutage(plan: OutagePlan): Promise<ScenarioRow> {
  const log = plan.log ?? (() => undefined);
  const { events, outageMs } = plan;
  const out = `${plan.dir}/${plan.name}.processed.txt`;
  const auditFile = `${plan.dir}/${plan.name}.audit.ndjson`;
  const configPath = await writeRecordingConfig(plan.dir, plan.name, {
    ...plan.config,
    audit: { file: auditFile },
    // info: joins, revokes, stream replacements and commit failures, a few lines per outage,
    // printed below when the row fails (CI's machine and its scratch folder are gone after).
    log: { level: process.env.SLUICE_OUTAGE_LOG ?? 'info', summaryIntervalMs: 0 },
  });
  // Sluice's own log, kept for the reader of a surprising row (SLUICE_OUTAGE_LOG=info for more).
  const logFile = `${plan.dir}/${plan.name}.sluice.log`;
  const child = runSluice(configPath, out, { env: plan.env, children: plan.children, logFile, delayMs: 4, entry: plan.entry });
  const stderr = createWriteStream(logFile, { flags: 'a' });
  child.stderr!.on('data', (chunk: Buffer) => stderr.write(chunk));
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `sluice exited ${code ?? signal}`));
  const distinct = async () => new Set(await processedNumbers(out)).size;
  const waitFor = async (what: string, ms: number, check: () => Promise<boolean>, pollMs = 100): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (exited || Date.now() > deadline) {
        log(`${plan.broker}: ${exited ?? `timed out after ${ms} ms`} waiting for ${what}`);
        return false;
      }
      await sleep(pollMs);
    }
    return true;
  };

  const notes: string[] = [];
  const errors: string[] = [];
  let drainMs = Number.NaN;
  try {
    if (await waitFor('a quarter of the events', 180_000, async () => (await distinct()) >= events / 4)) {
      log(`${plan.broker}: cutting the broker after ${(await processedNumbers(out)).length} records`);
      await plan.cut();
      const cutDone = (await processedNumbers(out)).length;
      log(`${plan.broker}: broker gone (${cutDone} records); back in ${outageMs} ms`);
      await sleep(outageMs);
      const restoreStarted = Date.now();
      await plan.restore();
      const restored = Date.now();
      log(`${plan.broker}: broker back (${restored - restoreStarted} ms to serve again)`);
      if (await waitFor(`all ${events} events`, plan.drainTimeoutMs ?? 300_000, async () => (await distinct()) >= events)) {
        // Redeliveries may still be on their way (a late rejoin, an ack deadline): wait until the
        // broker holds everything as done, then until nothing new is recorded for quietMs.
        if (plan.settled && !(await waitFor('the broker to hold every event as done', 180_000, plan.settled, 1_000))) {
          errors.push('not settled within 180 s (commits did not reach the end)');
        }
        drainMs = Date.now() - restored;
        let last = -1;
        const giveUpAt = Date.now() + 120_000;
        for (;;) {
          const now = (await processedNumbers(out)).length;
          if (now === last || exited) break;
          if (Date.now() > giveUpAt) {
            notes.push(`still processing redeliveries 120 s after the last event first arrived (${now} records)`);
            break;
          }
          last = now;
          await sleep(plan.quietMs ?? 10_000);
        }
      }
    }
  } finally {
    if (!exited) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([new Promise((resolve) => child.once('exit', () => resolve(true))), sleep(60_000)]);
      if (!stopped) {
        errors.push('sluice did not exit within 60 s of SIGTERM (killed)');
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    } else errors.push(`${exited} by itself`);
    stderr.end();
  }
  const audit = await verifyAudit(auditFile);
  if (audit.violations > 0) log(formatAuditReport(audit));
  const all = await processedNumbers(out);
  const seen = new Set(all);
  let lost = 0;
  for (let n = 0; n < events; n++) if (!seen.has(n)) lost++;
  const again = duplicated(all);
  const row: ScenarioRow = {
    scenario: SCENARIO(outageMs),
    broker: plan.broker,
    events,
    lost,
    duplicates: all.length - seen.size,
    drainMs,
    audit: { acks: audit.acks, violations: audit.violations },
    ...(plan.unbounded ? {} : { bounds: { duplicatesMax: duplicatesBound(plan) } }),
    ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
    notes: [`queue ${plan.config.queue.maxEvents}, pool ${plan.config.pool.size}, handler 4 ms`, again, ...notes, plan.unbounded ?? '']
      .filter(Boolean)
      .join('; '),
  };
  log(`${plan.broker}: ${JSON.stringify(row)}`);
  if (rowFailures(row).length > 0) await printTail(logFile, `${plan.broker}: the last lines of Sluice's log (${logFile})`, log);
  return row;
}

/**
 * Which events came twice, as ranges of their numbers (`2166–3726 (1561)`): whether they were
 * processed before the cut, during the outage or after it says which path re-read them.
 */
export function duplicated(records: readonly number[]): string {
  const seen = new Set<number>();
  const twice = new Set<number>();
  for (const n of records) (seen.has(n) ? twice : seen).add(n);
  if (twice.size === 0) return '';
  const sorted = [...twice].sort((a, b) => a - b);
  const ranges: string[] = [];
  let from = sorted[0]!;
  let to = from;
  for (const n of sorted.slice(1)) {
    if (n === to + 1) to = n;
    else {
      ranges.push(from === to ? `${from}` : `${from}–${to}`);
      from = to = n;
    }
  }
  ranges.push(from === to ? `${from}` : `${from}–${to}`);
  const shown = ranges.length > 8 ? [...ranges.slice(0, 8), `… ${ranges.length - 8} more ranges`] : ranges;
  return `came twice: ${shown.join(', ')}`;
}

async function printTail(file: string, title: string, log: (msg: string) => void, lines = 60): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const tail = text.trimEnd().split('\n').slice(-lines);
  log(`${title}:\n${tail.join('\n')}`);
}
