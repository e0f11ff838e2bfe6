// The at-least-once crash test every adapter runs: a real `sluice run` child consumes a backlog,
// is killed with SIGKILL mid-stream (no graceful close, no final commit or nack), and a second
// one takes over. Every event must be processed at least once; the duplicates are reported.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import { SLUICE_CLI } from '../sluice-cli.ts';

// Appends each processed event's number to a file before returning (and so before the ack):
// a line can only be missing if the event was never processed. SLUICE_TEST_HANDLER_MS sets how
// long each event takes (default 2 ms).
const RECORDING_HANDLER = `
import { openSync, writeFileSync, writeSync } from 'node:fs';
const out = openSync(process.env.SLUICE_TEST_OUT, 'a');
// When the app loads its handler it is about to connect: tests that time a restart start here.
if (process.env.SLUICE_TEST_LOADED) writeFileSync(process.env.SLUICE_TEST_LOADED, String(Date.now()));
const ms = Number(process.env.SLUICE_TEST_HANDLER_MS ?? 2);
export default async function handle(event) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  writeSync(out, JSON.parse(event.payload.toString()).n + '\\n');
}
`;

export interface CrashRestartOptions {
  /** A scratch folder of the test's. */
  dir: string;
  /** File names in `dir` are prefixed with this (several runs may share a folder). */
  name: string;
  /** The Sluice config without `handler`, `metrics` and `log` (set here). */
  config: Record<string, unknown>;
  /** Events 0..events-1 were published as `{"n": <number>}` payloads. */
  events: number;
  /** Environment changes for the children; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Children started, so the test's afterAll can SIGKILL any left (by pid). */
  children: Set<ChildProcess>;
}

export async function processedNumbers(out: string): Promise<number[]> {
  const text = await readFile(out, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map(Number);
}

async function waitFor(what: string, ms: number, check: () => Promise<boolean>, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (child.exitCode !== null) throw new Error(`sluice child exited (${child.exitCode}) while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts `sluice run` with `configPath`, recording what it processes to `out`. */
export function runSluice(configPath: string, out: string, options: Pick<CrashRestartOptions, 'env' | 'children'>): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_TEST_OUT: out };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const child = spawn(process.execPath, [...SLUICE_CLI, 'run', '--quiet', '--config', configPath], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
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
 * to the file SLUICE_TEST_OUT names. Metrics are off and logs at warn unless `config` says
 * otherwise. Returns its path.
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
      metrics: { enabled: false, ...(config.metrics as object | undefined) },
      log: { level: 'warn', summaryIntervalMs: 0, ...(config.log as object | undefined) },
    }),
  );
  return configPath;
}

/** Kill at a third, restart, wait for all; asserts none is missing. Returns what to report. */
export async function killMidStreamAndRestart(options: CrashRestartOptions): Promise<{ atKill: number; duplicates: number }> {
  const { dir, name, events } = options;
  const out = join(dir, `${name}.processed.txt`);
  const configPath = await writeRecordingConfig(dir, name, options.config);

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
  return { atKill, duplicates: all.length - seen.size };
}
