import { writeFile } from 'node:fs/promises';
import { ConfigError } from '../errors.ts';
import { BENCH_COLUMNS, benchRow, cutOffNote, warmupNote } from './bench-columns.ts';
import { profileFor, type ResolvedBroker, resolveBroker } from './broker-spec.ts';
import { findMaxRate } from './max-rate.ts';
import { ProgressReporter, type ProgressOutput } from './progress.ts';
import { type Machine, provenance } from './provenance.ts';
import { renderBenchReport } from './report-html.ts';
import { runBroker, type BrokerRun, type Workload } from './run-broker.ts';
import { num, table } from './table.ts';

export { warmupNote } from './bench-columns.ts';
export { machine } from './provenance.ts';

export interface BenchCommandOptions {
  /** Broker types, or `type:client` to choose the client library (`kafka:platformatic`). */
  brokers: string[];
  rate: number | 'max';
  workload: Omit<Workload, 'rate'>;
  /** Profile file by broker type, or by `type:client` for that variant alone. */
  profiles: Record<string, string>;
  /** `--set key.path=value` flags, applied over every broker's profile. */
  set?: readonly string[];
  out?: string;
  report?: string;
  quiet?: boolean;
  /** Where progress goes (stderr; tests pass their own). */
  progressOut?: ProgressOutput;
}

export interface BenchOutput {
  kind: 'bench';
  /** Sluice's version (package.json) and git commit (`unknown` when not from a checkout). */
  version: string;
  commit: string;
  machine: Machine;
  /** When the bench began, and ended (ISO). */
  startedAt: string;
  finishedAt?: string;
  /** The command's options as run: the brokers, rate, workload, profiles and --set flags. */
  options: { brokers: string[]; rate: number | 'max'; workload: Omit<Workload, 'rate'>; profiles: Record<string, string>; set: string[] };
  /** Each run also records its broker's effective Sluice config (`config`). */
  runs: BrokerRun[];
  maxRate?: Record<string, { rate: number; trials: { rate: number; sustained: boolean; reason: string }[] }>;
}

export function benchTable(runs: BrokerRun[]): string {
  return table(
    BENCH_COLUMNS.map((column) => column.header),
    runs.map(benchRow),
  );
}

/** `sluice bench`: each broker in turn on the same workload; a table, and JSON / HTML if asked. */
export async function benchCommand(options: BenchCommandOptions): Promise<number> {
  const output: BenchOutput = {
    kind: 'bench',
    ...provenance(),
    startedAt: new Date().toISOString(),
    options: {
      brokers: options.brokers,
      rate: options.rate,
      workload: options.workload,
      profiles: options.profiles,
      set: [...(options.set ?? [])],
    },
    runs: [],
  };
  // Every broker, client and profile checked before the first run: a typo fails at once.
  const brokers: ResolvedBroker[] = [];
  for (const spec of options.brokers) {
    const resolved = await resolveBroker(spec, profileFor(options.profiles, { spec, type: spec.split(':')[0]! }), '--brokers', options.set);
    const same = brokers.find((other) => other.label === resolved.label);
    if (same) throw new ConfigError('--brokers', `${same.spec} and ${spec} are the same run (${resolved.label})`);
    brokers.push(resolved);
  }
  const progress = new ProgressReporter({
    unit: 'broker',
    // A --rate max search has as many trials as it needs: no estimate then.
    runs: options.rate === 'max' ? undefined : brokers.length,
    durations: options.workload,
    quiet: options.quiet,
    out: options.progressOut,
  });
  for (const [index, broker] of brokers.entries()) {
    const profile = profileFor(options.profiles, broker);
    let rate = options.rate;
    if (rate === 'max') {
      const search = await findMaxRate(
        broker.spec,
        options.workload,
        profile,
        {
          onTrialStart: (trial, trialRate, durations) =>
            progress.startRun(index + 1, `${broker.label} max-rate trial ${trial} at ${num(trialRate)}/s`, durations),
          onProgress: (p) => progress.update(p),
          onTrial: (line) => progress.note(line),
        },
        options.set,
      );
      output.maxRate = { ...output.maxRate, [broker.label]: search };
      rate = search.rate;
      progress.note(`${broker.label}: max sustained rate ${num(rate)} events/s`);
      if (rate === 0) continue;
    }
    progress.startRun(index + 1, broker.label);
    const started = Date.now();
    let run: BrokerRun;
    try {
      run = await runBroker(
        broker.spec,
        { ...options.workload, rate },
        { profile, set: options.set, onProgress: (p) => progress.update(p) },
      );
    } catch (error) {
      run = { broker: broker.label, workload: { ...options.workload, rate }, error: (error as Error).message } as BrokerRun;
    }
    output.runs.push(run);
    progress.note(`${broker.label}: ${run.error ? `failed: ${run.error}` : 'done'} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  progress.finish();
  output.finishedAt = new Date().toISOString();
  const cut = cutOffNote(output.runs);
  process.stdout.write(`${benchTable(output.runs)}\n${warmupNote(options.workload)}\n${cut ? `${cut}\n` : ''}`);
  if (output.maxRate) {
    process.stdout.write(
      `${table(
        ['broker', 'max sustained rate/s'],
        Object.entries(output.maxRate).map(([b, r]) => [b, num(r.rate)]),
      )}\n`,
    );
  }
  if (options.out) await writeFile(options.out, `${JSON.stringify(output, null, 2)}\n`);
  if (options.report) await writeFile(options.report, renderBenchReport(output));
  return output.runs.some((run) => run.error) ? 1 : 0;
}
