// One broker outage, measured from outside: a real `sluice run` child reads a backlog with the
// recording handler; a quarter of the way through, the broker goes away (`cut`) for `outageMs`
// and comes back (`restore`); once every event was processed and nothing new was recorded for a
// while, Sluice is stopped with SIGTERM and the records are counted: lost and duplicates.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { processedNumbers, runSluice, writeRecordingConfig } from '../integration/crash-restart.ts';
import type { ScenarioRow } from './scenario.ts';

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
  /** Longest wait for every event after the restore. */
  drainTimeoutMs?: number;
  children: Set<ChildProcess>;
  log?: (msg: string) => void;
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
  const configPath = await writeRecordingConfig(plan.dir, plan.name, plan.config);
  const child = runSluice(configPath, out, { env: { SLUICE_TEST_HANDLER_MS: '4', ...plan.env }, children: plan.children });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `sluice exited ${code ?? signal}`));
  const distinct = async () => new Set(await processedNumbers(out)).size;
  const waitFor = async (what: string, ms: number, check: () => Promise<boolean>): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (exited || Date.now() > deadline) {
        log(`${plan.broker}: ${exited ?? `timed out after ${ms} ms`} waiting for ${what}`);
        return false;
      }
      await sleep(100);
    }
    return true;
  };

  const notes: string[] = [];
  let drainMs = Number.NaN;
  try {
    if (await waitFor('a quarter of the events', 180_000, async () => (await distinct()) >= events / 4)) {
      const atCut = (await processedNumbers(out)).length;
      await plan.cut();
      log(`${plan.broker}: broker cut after ${atCut} records`);
      await sleep(outageMs);
      const restoreStarted = Date.now();
      await plan.restore();
      const restored = Date.now();
      log(`${plan.broker}: broker back (${restored - restoreStarted} ms to serve again)`);
      if (await waitFor(`all ${events} events`, plan.drainTimeoutMs ?? 300_000, async () => (await distinct()) >= events)) {
        drainMs = Date.now() - restored;
        // Redeliveries may still be on their way (a late rejoin, an ack deadline): wait until
        // nothing new is recorded for quietMs.
        let last = -1;
        for (;;) {
          const now = (await processedNumbers(out)).length;
          if (now === last || exited) break;
          last = now;
          await sleep(plan.quietMs ?? 10_000);
        }
      }
    }
  } finally {
    if (!exited) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    } else notes.push(exited);
  }
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
    audit: 'off',
    bounds: { duplicatesMax: duplicatesBound(plan) },
    notes: [`queue ${plan.config.queue.maxEvents}, pool ${plan.config.pool.size}, handler 4 ms`, ...notes].join('; '),
  };
  log(`${plan.broker}: ${JSON.stringify(row)}`);
  return row;
}
