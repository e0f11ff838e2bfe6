import { writeFile } from 'node:fs/promises';
import type { SluiceConfig } from '../config/schema.ts';
import { warmupNote } from './bench-columns.ts';
import { resolveBroker } from './broker-spec.ts';
import { ProgressReporter, type ProgressOutput } from './progress.ts';
import { type Machine, provenance } from './provenance.ts';
import { renderTuneReport } from './report-html.ts';
import { runBroker, type Workload } from './run-broker.ts';
import { ms, num, table } from './table.ts';

export interface TunePoint {
  queueSize: number;
  poolSize: number;
  throughput: number;
  p99Ms: number;
  peakRssMB: number;
  lost: number;
  meetsSlo: boolean;
  frontier: boolean;
  error?: string;
}

export interface TuneOutput {
  kind: 'tune';
  broker: string;
  /** Sluice's version and git commit (`unknown` when not from a checkout). */
  version: string;
  commit: string;
  machine: Machine;
  /** When the sweep began and ended (ISO). */
  startedAt: string;
  finishedAt: string;
  /** The command's options as run (grid, workload, profile). */
  options: Omit<TuneOptions, 'out' | 'report' | 'quiet' | 'progressOut'>;
  /** The effective Sluice config of the first trial that ran (queue.maxEvents and pool.size vary). */
  config?: unknown;
  rate: number;
  sloP99Ms: number;
  work: string;
  points: TunePoint[];
  recommended?: TunePoint;
  snippet: string;
}

/**
 * The Pareto frontier over (throughput ↑, p99 ↓, peak memory ↓) among runs that lost nothing:
 * a point is on it when no other point is at least as good in all three and better in one.
 */
export function markFrontier(points: TunePoint[]): void {
  const candidates = points.filter((p) => p.lost === 0 && !p.error);
  for (const p of points) {
    p.frontier =
      p.lost === 0 &&
      !p.error &&
      !candidates.some(
        (q) =>
          q !== p &&
          q.throughput >= p.throughput &&
          q.p99Ms <= p.p99Ms &&
          q.peakRssMB <= p.peakRssMB &&
          (q.throughput > p.throughput || q.p99Ms < p.p99Ms || q.peakRssMB < p.peakRssMB),
      );
  }
}

/** The smallest configuration (fewest workers, then the smallest queue) meeting the SLO with zero loss. */
export function recommend(points: TunePoint[]): TunePoint | undefined {
  return points.filter((p) => p.meetsSlo).sort((a, b) => a.poolSize - b.poolSize || a.queueSize - b.queueSize)[0];
}

export function snippetFor(point: TunePoint | undefined, slo: number, rate: number): string {
  if (!point)
    return `# no configuration met p99 <= ${slo} ms at ${rate}/s with zero loss: widen the grid (--pool-sizes, --queue-sizes) or relax the SLO`;
  return `# sluice tune: smallest configuration meeting p99 <= ${slo} ms at ${rate} events/s with zero loss\n# (measured: ${num(point.throughput)}/s, p99 ${ms(point.p99Ms)} ms, peak RSS ${point.peakRssMB} MB)\nqueue:\n  maxEvents: ${point.queueSize}\npool:\n  size: ${point.poolSize}\n`;
}

export interface TuneOptions {
  broker: string;
  rate: number;
  sloP99Ms: number;
  queueSizes: number[];
  poolSizes: number[];
  workload: Omit<Workload, 'rate' | 'queueSize' | 'poolSize'>;
  profile?: string;
  out?: string;
  report?: string;
  quiet?: boolean;
  /** Where progress goes (stderr; tests pass their own). */
  progressOut?: ProgressOutput;
  /** Simulate the grid first and run only the promising trials (src/simulate/simulate-first.ts). */
  simulateFirst?: boolean;
}

/** `--simulate-first`: the pairs worth a real trial, by the simulated grid (loaded only when asked). */
async function simulatedShortlist(options: TuneOptions, config: SluiceConfig): Promise<Set<string>> {
  const { promisingPairs } = await import('../simulate/simulate-first.ts');
  const { pairs, sweep } = promisingPairs({ ...options, config });
  if (!options.quiet) {
    process.stderr.write(
      `simulated ${sweep.points.length} configurations in ${(sweep.wallMs / 1000).toFixed(1)} s; measuring the ${pairs.size} promising: ${[...pairs].join(', ') || 'none'}\n`,
    );
  }
  return pairs;
}

export async function tuneCommand(options: TuneOptions): Promise<number> {
  // The sweep's start, not its end (as once recorded): the runs' timestamps fall after it.
  const startedAt = new Date().toISOString();
  const { out, report, quiet, progressOut, ...asRun } = options;
  const resolved = await resolveBroker(options.broker, options.profile, '--broker'); // a bad broker or client fails before the sweep
  const promising = options.simulateFirst ? await simulatedShortlist(options, resolved.config) : undefined;
  const points: TunePoint[] = [];
  let config: unknown;
  const progress = new ProgressReporter({
    unit: 'trial',
    runs: promising?.size ?? options.queueSizes.length * options.poolSizes.length,
    durations: options.workload,
    quiet,
    out: progressOut,
  });
  for (const queueSize of options.queueSizes) {
    for (const poolSize of options.poolSizes) {
      if (promising && !promising.has(`${queueSize}x${poolSize}`)) continue;
      progress.startRun(points.length + 1, `${options.broker} queue ${queueSize}, pool ${poolSize}`);
      try {
        const run = await runBroker(
          options.broker,
          { ...options.workload, rate: options.rate, queueSize, poolSize },
          { profile: options.profile, onProgress: (p) => progress.update(p) },
        );
        config ??= run.config;
        const point: TunePoint = {
          queueSize,
          poolSize,
          throughput: run.throughput,
          p99Ms: run.latencyMs.p99,
          peakRssMB: run.peakRssMB,
          lost: run.delivery.lost,
          meetsSlo: false,
          frontier: false,
        };
        point.meetsSlo = point.lost === 0 && point.p99Ms <= options.sloP99Ms && point.throughput >= options.rate * 0.95;
        points.push(point);
      } catch (error) {
        points.push({
          queueSize,
          poolSize,
          throughput: 0,
          p99Ms: Infinity,
          peakRssMB: 0,
          lost: 0,
          meetsSlo: false,
          frontier: false,
          error: (error as Error).message,
        });
      }
      const p = points[points.length - 1]!;
      progress.note(
        `trial ${points.length}/${promising?.size ?? options.queueSizes.length * options.poolSizes.length} queue ${queueSize}, pool ${poolSize}: ${
          p.error
            ? `error: ${p.error}`
            : `${num(p.throughput)}/s, p99 ${ms(p.p99Ms)} ms, lost ${p.lost}${p.meetsSlo ? ', meets the SLO' : ''}`
        }`,
      );
    }
  }
  progress.finish();
  markFrontier(points);
  const recommended = recommend(points);
  const output: TuneOutput = {
    kind: 'tune',
    broker: options.broker,
    ...provenance(),
    startedAt,
    finishedAt: new Date().toISOString(),
    options: asRun,
    config,
    rate: options.rate,
    sloP99Ms: options.sloP99Ms,
    work: options.workload.work,
    points,
    recommended,
    snippet: snippetFor(recommended, options.sloP99Ms, options.rate),
  };
  process.stdout.write(
    `${table(
      ['queue', 'pool', 'throughput/s', 'p99 ms', 'peak RSS MB', 'lost', 'SLO', 'Pareto'],
      points.map((p) => [
        p.queueSize,
        p.poolSize,
        p.error ? `error: ${p.error}` : num(p.throughput),
        p.error ? '' : ms(p.p99Ms),
        p.peakRssMB,
        p.lost,
        p.meetsSlo ? 'yes' : 'no',
        p === recommended ? '◆ recommended' : p.frontier ? '◆' : '',
      ]),
    )}\n${warmupNote(options.workload, 'lost counts them')}\n\n${output.snippet}\n`,
  );
  if (out) await writeFile(out, `${JSON.stringify(output, (_, v) => (v === Infinity ? null : v), 2)}\n`);
  if (report) await writeFile(report, renderTuneReport(output));
  return points.some((p) => p.error) ? 1 : 0;
}
