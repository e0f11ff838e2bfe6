// A real `sluice run` child with a recording handler: what the crash tests (test/integration)
// and the crash-restart harness (test/crash) kill and restart. Shared here so both read the
// same records the same way.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SLUICE_CLI } from '../sluice-cli.ts';

// Appends `<n> <key> <ms since epoch> <attempt> <partition>` for each processed event to a file
// before returning (and so before the ack): a line can only be missing if the event was never
// processed. The wait (SLUICE_TEST_DELAY_MS, default 2 ms) stands for the handler's work. The
// attempt (Pub/Sub's delivery attempt where it reports one) and the partition / shard tell the
// handoff scenario whose share an event was and whether it came back.
const RECORDING_HANDLER = `
import { openSync, writeFileSync, writeSync } from 'node:fs';
const out = openSync(process.env.SLUICE_TEST_OUT, 'a');
const delayMs = Number(process.env.SLUICE_TEST_DELAY_MS ?? 2);
// When the app loads its handler it is about to connect: tests that time a restart start here.
if (process.env.SLUICE_TEST_LOADED) writeFileSync(process.env.SLUICE_TEST_LOADED, String(Date.now()));
export default async function handle(event) {
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  const n = JSON.parse(event.payload.toString()).n;
  writeSync(out, n + ' ' + (event.key ?? '-') + ' ' + Date.now() + ' ' + event.attempt + ' ' + event.position.partition + '\\n');
}
`;

/** One line of a recording handler's file. */
export interface Processed {
  n: number;
  key: string;
  /** When the handler recorded it (ms since the epoch). */
  at: number;
  /** SourceEvent.attempt: 1, or Pub/Sub's delivery attempt where it reports one. */
  attempt?: number;
  /** SourceEvent.position.partition: Kafka `topic/partition`, Kinesis shard id, Pub/Sub subscription. */
  partition?: string;
}

export async function processedRecords(out: string): Promise<Processed[]> {
  const text = await readFile(out, 'utf8').catch(() => '');
  const records: Processed[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [n, key, at, attempt, partition] = line.split(' ');
    records.push({ n: Number(n), key: key ?? '-', at: Number(at), attempt: Number(attempt ?? 1), partition: partition ?? '' });
  }
  return records;
}

export async function processedNumbers(out: string): Promise<number[]> {
  return (await processedRecords(out)).map((record) => record.n);
}

export interface ChildOptions {
  /** Environment changes for the child; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Children started, so the caller can SIGKILL any left (by pid). */
  children: Set<ChildProcess>;
  /** How to start sluice (default: the sources through tsx, see test/sluice-cli.ts). */
  entry?: readonly string[];
  /** The handler's wait per event, ms (default 2). */
  delayMs?: number;
  /** Sluice logs to stdout: appended to this file when given (else dropped). */
  logFile?: string;
}

/** Starts `sluice run` with `configPath`, recording what it processes to `out`. */
export function runSluice(configPath: string, out: string, options: ChildOptions): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_TEST_OUT: out };
  if (options.delayMs !== undefined) env.SLUICE_TEST_DELAY_MS = String(options.delayMs);
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const log = options.logFile ? openSync(options.logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [...(options.entry ?? SLUICE_CLI), 'run', '--quiet', '--config', configPath], {
    env,
    stdio: ['ignore', log, 'pipe'],
  });
  if (typeof log === 'number') closeSync(log); // the child has its own copy
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL') console.error(`sluice child exited ${code ?? signal}:\n${stderr}`);
  });
  options.children.add(child);
  return child;
}

/**
 * Writes `<name>.sluice.yaml` in `dir`: `config` plus a handler that appends each event's number
 * to the file SLUICE_TEST_OUT names. Returns its path.
 */
export async function writeRecordingConfig(dir: string, name: string, config: Record<string, unknown>): Promise<string> {
  const configPath = join(dir, `${name}.sluice.yaml`);
  const handler = join(dir, `${name}.handler.mjs`);
  await writeFile(handler, RECORDING_HANDLER);
  await writeFile(
    configPath,
    stringify({
      ...config,
      handler: { module: handler },
      // A `metrics` in `config` turns them on (the drill scrapes each child with Prometheus).
      metrics: { enabled: false, ...(config.metrics as object | undefined) },
      // A `log` in `config` may raise the level (a scenario keeping Sluice's log for its reader).
      log: { level: 'warn', summaryIntervalMs: 0, ...(config.log as object | undefined) },
    }),
  );
  return configPath;
}

/** Polls `check` every 50 ms; fails if `child` exits first or `ms` pass. */
export async function waitFor(what: string, ms: number, check: () => Promise<boolean>, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (child.exitCode !== null) throw new Error(`sluice child exited (${child.exitCode}) while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SIGKILLs every child still running (a test's afterAll, the harness's exit). */
export function killChildren(children: Set<ChildProcess>): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
}
