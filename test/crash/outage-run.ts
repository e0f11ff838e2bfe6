// One broker outage, measured from outside: a real `sluice run` child reads a backlog with the
// recording handler; a quarter of the way through, the broker goes away (`cut`) for `outageMs`
// and comes back (`restore`); once every event was processed and nothing new was recorded for a
// while, Sluice is stopped with SIGTERM and the records are counted: lost and duplicates.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { processedNumbers, runSluice, writeRecordingConfig } from './sluice-child.ts';
import { formatAuditReport, verifyAudit } from '../../src/audit/verify.ts';
import type { ScenarioRow } from './scenario.ts';

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
    log: { level: process.env.SLUICE_OUTAGE_LOG ?? 'warn', summaryIntervalMs: 0 },
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
    notes: [`queue ${plan.config.queue.maxEvents}, pool ${plan.config.pool.size}, handler 4 ms`, ...notes, plan.unbounded ?? '']
      .filter(Boolean)
      .join('; '),
  };
  log(`${plan.broker}: ${JSON.stringify(row)}`);
  return row;
}
