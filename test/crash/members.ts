// What the handoff and resume scenarios share beyond sluice-child.ts: a paced load, members
// (`sluice run` children recording what they process, with when, from which partition and at
// which delivery attempt), and the counting of a finished run. Timing only: nothing here asserts.
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Processed, processedRecords, runSluice, writeRecordingConfig } from './sluice-child.ts';
import { formatAuditReport, verifyAudit } from '../../src/audit/verify.ts';
import type { RigRun } from './broker-rig.ts';
import type { OutgoingEvent, Publisher } from '../../src/broker/contract.ts';
import type { ScenarioContext } from './registry.ts';
import type { ScenarioRow } from './scenario.ts';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 100 ms; throws naming `what` after `ms`. */
export async function until(what: string, ms: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Publishes events 0, 1, 2… at `rate` per second (in tenth-of-a-second batches) until stopped;
 * {@link burst} adds a backlog as fast as the broker takes it.
 */
export class Load {
  produced = 0;
  stoppedAt = 0;
  private stopping = false;
  private bursting = 0;
  private burstDone: (() => void) | undefined;
  private readonly running: Promise<void>;

  constructor(
    private readonly run: RigRun,
    public rate: number,
  ) {
    this.running = this.loop();
    this.running.catch(() => undefined);
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.bursting > 0) {
        const count = Math.min(500, this.bursting);
        await this.run.publish(this.produced, count);
        this.produced += count;
        this.bursting -= count;
        if (this.bursting === 0) this.burstDone?.();
        continue;
      }
      const started = Date.now();
      const count = Math.max(1, Math.round(this.rate / 10));
      await this.run.publish(this.produced, count);
      this.produced += count;
      await sleep(Math.max(0, 100 - (Date.now() - started)));
    }
  }

  /** Publishes `count` more events at once (in parts of 500); resolves when they are published. */
  burst(count: number): Promise<void> {
    this.bursting += count;
    return new Promise((resolve) => (this.burstDone = resolve));
  }

  /** Stops publishing; resolves with the number of events published (0..produced-1). */
  async stop(): Promise<number> {
    this.stopping = true;
    await this.running;
    this.stoppedAt = Date.now();
    return this.produced;
  }
}

/** The Sluice settings every scenario runs with (the issue's: queue 2,000, pool 16). */
export function scenarioConfig(run: RigRun): Record<string, unknown> {
  return { broker: run.broker, queue: { maxEvents: 2_000 }, pool: { size: 16 }, deadLetter: { type: 'none' } };
}

/** One `sluice run` child recording what it processes to its own file. */
export class Member {
  readonly child: ChildProcess;
  readonly out: string;
  /** This member's ack audit (SLUICE_AUDIT__FILE), checked by {@link auditOf}. */
  readonly audit: string;
  readonly spawnedAt = Date.now();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;

  constructor(
    readonly dir: string,
    readonly name: string,
    configPath: string,
    children: Set<ChildProcess>,
    env: Record<string, string | undefined> = {},
    /** How to start sluice (default: the sources through tsx; the harness runs the compiled CLI). */
    entry?: readonly string[],
  ) {
    this.out = join(dir, `${name}.processed.txt`);
    this.audit = join(dir, `${name}.audit.ndjson`);
    this.child = runSluice(configPath, this.out, {
      children,
      entry,
      env: { SLUICE_TEST_LOADED: `${this.out}.loaded`, SLUICE_AUDIT__FILE: this.audit, ...env },
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  }

  records(): Promise<Processed[]> {
    return processedRecords(this.out);
  }

  /** When the app loaded its handler (about to connect), or undefined before. */
  async loadedAt(): Promise<number | undefined> {
    const text = await readFile(`${this.out}.loaded`, 'utf8').catch(() => '');
    return text ? Number(text) : undefined;
  }

  /** Resolves once it processed something; throws if it exits first. */
  async firstRecord(ms: number): Promise<Processed> {
    let first: Processed | undefined;
    let gone = false;
    void this.exited.then(() => (gone = true));
    await until(`${this.name} to process an event`, ms, async () => {
      if (gone) throw new Error(`${this.name} exited before processing anything`);
      first = (await this.records())[0];
      return first !== undefined;
    });
    return first!;
  }

  signal(signal: NodeJS.Signals): number {
    process.kill(this.child.pid!, signal);
    return Date.now();
  }
}

/** Writes the config of a scenario's members (recording handler included); returns its path. */
export function writeMembersConfig(dir: string, name: string, run: RigRun, extra: Record<string, unknown> = {}): Promise<string> {
  return writeRecordingConfig(dir, name, { ...scenarioConfig(run), ...extra });
}

/** Lost and duplicated among events 0..events-1, from every member's records. */
export function count(events: number, records: Processed[]): { lost: number; duplicates: number; lastAt: number } {
  const seen = new Set<number>();
  let lastAt = 0;
  for (const record of records) {
    seen.add(record.n);
    lastAt = Math.max(lastAt, record.at);
  }
  let lost = 0;
  for (let n = 0; n < events; n++) if (!seen.has(n)) lost++;
  return { lost, duplicates: records.length - seen.size, lastAt };
}

/** Waits until every event 0..events-1 was recorded by one of `members` (or `ms` passed: the count then shows what is lost). */
export async function drain(members: Member[], events: number, ms: number): Promise<Processed[]> {
  const all = async () => (await Promise.all(members.map((member) => member.records()))).flat();
  await until(`all ${events} events`, ms, async () => count(events, await all()).lost === 0).catch(() => undefined);
  return all();
}

/** The ack audits of `members` (one file each), verified and summed; problems go to `log`. */
export async function auditOf(members: Member[], log: (line: string) => void): Promise<{ acks: number; violations: number }> {
  let acks = 0;
  let violations = 0;
  for (const member of members) {
    const report = await verifyAudit(member.audit);
    acks += report.acks;
    violations += report.violations;
    if (report.violations > 0) log(formatAuditReport(report));
  }
  return { acks, violations };
}

/** The row of a case that could not run to the end (rowFailures fails it). */
export function errorRow(scenario: string, broker: string, error: unknown): ScenarioRow {
  const reason = error instanceof Error ? error.message : String(error);
  return { scenario, broker, events: 0, lost: 0, duplicates: 0, drainMs: Number.NaN, audit: 'off', error: reason };
}

/**
 * One row per case of `scenario` that `context` wants, in order; a case that throws becomes an
 * {@link errorRow} (logged with its stack) instead of ending the scenario.
 */
export async function collectRows<C>(
  context: ScenarioContext,
  scenario: string,
  cases: Iterable<C>,
  label: (item: C) => string,
  row: (item: C) => Promise<ScenarioRow>,
): Promise<ScenarioRow[]> {
  const rows: ScenarioRow[] = [];
  for (const item of cases) {
    const broker = label(item);
    if (!context.wants(scenario, broker)) continue;
    try {
      rows.push(await row(item));
    } catch (error) {
      context.log(`[${scenario} / ${broker}] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      rows.push(errorRow(scenario, broker, error));
    }
  }
  return rows;
}

/** Publishes `{"n": n}` for n in 0..events-1 with keys `key-<n % keys>`, in batches of `batch`. */
export async function publishNumbered(
  publisher: Publisher,
  destination: string,
  events: number,
  keys: number,
  batch: number,
): Promise<void> {
  for (let start = 0; start < events; start += batch) {
    const outgoing: OutgoingEvent[] = [];
    for (let n = start; n < Math.min(events, start + batch); n++) {
      outgoing.push({ key: `key-${n % keys}`, payload: Buffer.from(JSON.stringify({ n })) });
    }
    await publisher.publish(destination, outgoing);
  }
}

/** SIGKILLs whatever a scenario left running (by pid). */
export function killLeft(children: Set<ChildProcess>): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  }
}
