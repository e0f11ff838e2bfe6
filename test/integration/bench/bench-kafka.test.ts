// `npm run bench:kafka` end to end at a small scale: the bare clients and Sluice on each library,
// each in a child process of its own for all rounds (or, --fresh, for each drain), then the latency phase, against the real
// Kafka of `npm run brokers:up`. This checks that the comparison users read is made and complete
// (every contender, every round, both ratios, Sluice committing, no child left running), not the
// figures: timings belong in the bench.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { childExecArgv } from '../../../src/util/runtime.ts';
import { requireBroker } from '../brokers.ts';

const BENCH = fileURLToPath(new URL('../../../src/bench/kafka-bench.ts', import.meta.url));
const CONTENDERS = ['bare kafkajs', 'Sluice kafkajs', 'bare platformatic', 'Sluice platformatic'];

interface BenchJson {
  events: number;
  rounds: number;
  contenders: Record<string, { eventsPerSecond: number; cpuUsPerEvent: number; rounds: number[] }>;
  ratios: Record<string, { rate: number; paired: number; cpu: number }>;
  latency: { rate: number; achievedRate: number; events: number; p50Ms: number; p99Ms: number; maxMs: number };
}

/** Runs the bench to its end; its stdout's last line is the JSON, its stderr the human lines. */
function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...childExecArgv(), BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Pids of processes whose command line holds `marker` (the bench's children carry its run id). */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('npm run bench:kafka (small scale)', () => {
  // The default: a child per contender for all rounds; --fresh: a child per drain.
  const arrangements = [
    { flags: [] as string[], says: 'contenders: each in a process of its own, for all rounds' },
    { flags: ['--fresh'], says: 'contenders: each drain in a process started for it (--fresh)' },
  ];
  for (const arrangement of arrangements) {
    it(`${arrangement.flags.join(' ') || 'default'}: compares every contender in every round, both libraries, then measures latency, and leaves no child running`, {
      timeout: 300_000,
    }, async (ctx) => {
      requireBroker('kafka', ctx);
      const run = `t${Date.now().toString(36)}`;
      const rounds = 2;
      const latency = { rate: 400, seconds: 4 };
      const result = await bench([
        ...['--events', '4000', '--rounds', String(rounds), '--contenders', 'bare,sluice', '--run', run],
        ...['--rate', String(latency.rate), '--seconds', String(latency.seconds)],
        ...arrangement.flags,
      ]);
      if (result.code !== 0) console.log(result.stderr);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(arrangement.says);
      const json = JSON.parse(result.stdout.trim().split('\n').pop()!) as BenchJson;

      expect(Object.keys(json.contenders).sort()).toEqual([...CONTENDERS].sort());
      for (const name of CONTENDERS) {
        const figures = json.contenders[name]!;
        expect(figures.rounds, name).toHaveLength(rounds);
        expect(
          figures.rounds.every((rate) => rate > 0),
          name,
        ).toBe(true);
        expect(figures.cpuUsPerEvent, name).toBeGreaterThan(0);
      }
      for (const client of ['kafkajs', 'platformatic']) {
        const ratio = json.ratios[client]!;
        for (const value of [ratio.rate, ratio.paired, ratio.cpu]) expect(Number.isFinite(value) && value > 0, client).toBe(true);
      }
      // Sluice ran as `sluice run` runs it: it committed what it processed, every round, on both libraries.
      for (const client of ['kafkajs', 'platformatic']) {
        const commits = [...result.stderr.matchAll(new RegExp(`round \\d+: Sluice ${client}\\s.*, (\\d+) offset commits`, 'g'))];
        expect(commits, client).toHaveLength(rounds);
        expect(
          commits.every((match) => Number(match[1]) > 0),
          client,
        ).toBe(true);
      }
      // The latency phase: the open-loop stream minus its first two seconds, all of it handled.
      expect(json.latency.events).toBe(latency.rate * (latency.seconds - 2));
      expect(json.latency.achievedRate).toBeGreaterThan(0);
      expect(json.latency.p50Ms).toBeLessThanOrEqual(json.latency.p99Ms);
      expect(json.latency.p99Ms).toBeLessThanOrEqual(json.latency.maxMs);
      // The contenders' processes end with the bench (they carry its run id): given a few seconds
      // to close their Kafka clients, none is left.
      const deadline = Date.now() + 15_000;
      while (processesWith(`--run\0${run}`).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(processesWith(`--run\0${run}`)).toEqual([]);
    });
  }
});
