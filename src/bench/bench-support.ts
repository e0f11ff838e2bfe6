import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { type RunningSluice, runLogger, startSluice } from '../cli/run.ts';
import { throwIssues } from '../config/issues.ts';
import { deepMerge, validateConfig } from '../config/load.ts';
import { readSets } from '../config/set.ts';
import type { SluiceConfig } from '../config/schema.ts';
import type { Handler } from '../handler/handler.ts';
import { childExecArgv, moduleUrl } from '../util/runtime.ts';
import { sleep } from '../util/sleep.ts';
export { sleep } from '../util/sleep.ts';
export { num as fmt } from './table.ts';

/** What the per-adapter benchmarks (bench:kafka, bench:kinesis, bench:pubsub) share. */

/** A short id that makes this run's topics, streams and groups fresh. */
export const runId = (): string => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

/** Warnings and worse to stderr: stdout carries only the final JSON line. */
export const benchLogger = () => pino({ level: 'warn' }, pino.destination(2));

export const say = (line: string): void => void process.stderr.write(`${line}\n`);

export async function waitUntil(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * The config `sluice run` would run with for this broker section: every other key at its schema
 * default (queue 10,000, pool 16, retry and timeout wrappers, metrics on, info logs, summary line
 * every 10 s), except the metrics server on 127.0.0.1 and a free port, so runs do not collide.
 */
export function runConfigFor(broker: string, section: Record<string, unknown>, overrides: Record<string, unknown> = {}): unknown {
  return deepMerge({ broker: { type: broker, [broker]: section }, metrics: { host: '127.0.0.1', port: 0 } }, overrides);
}

/** `--set queue.maxEvents=1000` flags as a config object (values read as YAML scalars). */
export function settings(assignments: string[]): Record<string, unknown> {
  const layer = readSets(assignments);
  throwIssues(layer.issues);
  return layer.values;
}

/** Sluice in this process, started exactly as `sluice run` starts it, and scraped like Prometheus. */
export interface BenchSluice extends RunningSluice {
  readonly config: SluiceConfig;
  readonly scraper: Scraper;
}

/**
 * Starts Sluice as `sluice run` does (src/cli/run.ts: DI container, handler wrappers, metrics
 * server, info-level JSON logs, the summary line at its default interval; logs and summary lines
 * go to stderr here, as stdout carries the bench's JSON) with `handler` in place of the handler
 * module, and scrapes /metrics once a second, as Prometheus would: scrapes cost CPU too.
 */
export async function startSluiceAsRun(raw: unknown, handler: Handler): Promise<BenchSluice> {
  const config = await validateConfig(raw);
  const running = await startSluice(config, runLogger(config, pino.destination(2)), {
    handler,
    write: (line) => say(`  sluice ${line}`),
  });
  const scraper = new Scraper(running.sluice.metricsPort!, 1_000);
  return {
    ...running,
    config,
    scraper,
    stop: async () => {
      scraper.stop();
      await running.stop();
    },
  };
}

/** GETs /metrics every `intervalMs` over a kept-alive connection; reads the last text on demand. */
export class Scraper {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly timer: NodeJS.Timeout | undefined;
  private inFlight = false;
  scrapes = 0;
  last = '';

  constructor(
    private readonly port: number,
    intervalMs: number,
  ) {
    if (intervalMs > 0) this.timer = setInterval(() => void this.scrape().catch(() => undefined), intervalMs);
  }

  async scrape(): Promise<string> {
    if (this.inFlight) return this.last;
    this.inFlight = true;
    try {
      this.last = await new Promise<string>((resolve, reject) => {
        get({ host: '127.0.0.1', port: this.port, path: '/metrics', agent: this.agent }, (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve(text));
          response.on('error', reject);
        }).on('error', reject);
      });
      this.scrapes++;
      return this.last;
    } finally {
      this.inFlight = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.agent.destroy();
  }
}

/** The sum of a metric's samples in Prometheus text (all label sets), or 0 when absent. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** A rate measured from outside a process: events and CPU per event over the steady part of a drain. */
export interface OutsideRate {
  eventsPerSecond: number;
  cpuUsPerEvent: number;
  /** Samples inside the window the rate was taken over. */
  samples: number;
  /** From spawning the process to the first processed event: start-up, connecting, joining. */
  startupSeconds: number;
  /** All events over spawn → last event: what a stopwatch around the whole process would show. */
  wallEventsPerSecond: number;
}

/** CPU seconds (user + system, all threads) a process has used, from /proc (Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/**
 * `sluice run` itself, in a child process started from the compiled (or source) CLI, with a
 * config file holding only `raw` (so everything else is at its schema default; JSON is YAML).
 * Drains `events` and measures from outside: /metrics polled every `pollMs` for the completed
 * count, /proc for the child's CPU. The rate is taken between the first sample after processing
 * began and the last one before it ended, so the child's start-up and the group join are not in it
 * (nor the partial intervals at either end).
 */
export async function sluiceRunFromOutside(
  raw: unknown,
  events: number,
  options: { pollMs?: number; timeoutMs?: number } = {},
): Promise<OutsideRate> {
  const pollMs = options.pollMs ?? 100;
  const file = join(tmpdir(), `sluice-bench-${runId()}.yaml`);
  writeFileSync(file, JSON.stringify(raw));
  const cli = fileURLToPath(moduleUrl('../cli/sluice.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, [...childExecArgv(), cli, 'run', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SLUICE_'))),
  });
  const spawnedAt = performance.now();
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let port: number | undefined;
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (port === undefined) {
      const match = /"metricsPort":(\d+)/.exec(stdout);
      if (match) port = Number(match[1]);
    }
  });
  let errText = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (errText + chunk).split('\n');
    errText = lines.pop()!;
    for (const line of lines) say(`  [sluice run] ${line}`);
  });
  try {
    await waitUntil('sluice run to start', () => port !== undefined || child.exitCode !== null, 120_000);
    if (port === undefined) throw new Error(`sluice run exited with ${child.exitCode}:\n${stdout}`);
    const scraper = new Scraper(port, 0);
    const samples: { at: number; done: number; cpu: number }[] = [];
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    try {
      for (;;) {
        const text = await scraper.scrape();
        const sample = {
          at: performance.now(),
          done: metricSum(text, 'sluice_events_processed_total'),
          cpu: processCpuSeconds(child.pid!),
        };
        samples.push(sample);
        if (sample.done >= events) break;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`sluice run: ${sample.done} of ${events} events processed`);
        await sleep(pollMs);
      }
    } finally {
      scraper.stop();
    }
    const inside = samples.filter((sample) => sample.done > 0 && sample.done < events);
    if (inside.length < 3) throw new Error(`sluice run: only ${inside.length} samples during the drain; use more events`);
    const first = inside[0]!;
    const last = inside[inside.length - 1]!;
    const done = last.done - first.done;
    return {
      eventsPerSecond: done / ((last.at - first.at) / 1000),
      cpuUsPerEvent: ((last.cpu - first.cpu) * 1e6) / done,
      samples: inside.length,
      startupSeconds: (first.at - spawnedAt) / 1000,
      wallEventsPerSecond: events / ((samples[samples.length - 1]!.at - spawnedAt) / 1000),
    };
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    unlinkSync(file);
  }
}

export interface Rate {
  eventsPerSecond: number;
  /** Process CPU time (user + system, all threads) from the first event to the last, per event. */
  cpuUsPerEvent: number;
}

/**
 * Counts events from the first to the `events`-th: rate and CPU are taken over that span, so
 * joining the group is not counted.
 */
export class EventCounter {
  count = 0;
  private first = 0;
  private last = 0;
  private cpuFirst: NodeJS.CpuUsage | undefined;
  private cpu: NodeJS.CpuUsage | undefined;

  constructor(readonly events: number) {}

  add(n: number): void {
    if (this.count === 0 && n > 0) {
      this.first = performance.now();
      this.cpuFirst = process.cpuUsage();
    }
    this.count += n;
    if (this.count >= this.events && !this.last) {
      this.last = performance.now();
      this.cpu = process.cpuUsage(this.cpuFirst);
    }
  }

  get done(): boolean {
    return this.count >= this.events;
  }

  rate(): Rate {
    return {
      eventsPerSecond: this.events / ((this.last - this.first) / 1000),
      cpuUsPerEvent: (this.cpu!.user + this.cpu!.system) / this.events,
    };
  }
}
