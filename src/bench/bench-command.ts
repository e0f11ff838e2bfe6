import { writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { ConfigError } from '../errors.ts';
import { profileFor, type ResolvedBroker, resolveBroker } from './broker-spec.ts';
import { findMaxRate } from './max-rate.ts';
import { renderBenchReport } from './report-html.ts';
import { runBroker, type BrokerRun, type Workload } from './run-broker.ts';
import { ms, num, table } from './table.ts';

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
}

export interface BenchOutput {
  kind: 'bench';
  machine: { cpus: number; cpuModel: string; memoryGB: number; node: string; note: string };
  startedAt: string;
  runs: BrokerRun[];
  maxRate?: Record<string, { rate: number; trials: { rate: number; sustained: boolean; reason: string }[] }>;
}

export function machine() {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    note: 'all brokers local on this machine; emulators (kinesalite, the Pub/Sub emulator) are not the cloud services: figures compare the gateway paths, not the clouds',
  };
}

export function benchTable(runs: BrokerRun[]): string {
  return table(
    [
      'broker',
      'rate/s',
      'throughput/s',
      'sent',
      'lost',
      'dups',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'p99.9 ms',
      'max ms',
      'publish p99',
      'cpu %',
      'rss MB',
    ],
    runs.map((run) =>
      run.error
        ? [run.broker, num(run.workload.rate), `error: ${run.error}`, '', '', '', '', '', '', '', '', '', '', '']
        : [
            run.broker,
            num(run.workload.rate),
            num(run.throughput),
            num(run.sent),
            num(run.delivery.lost),
            num(run.delivery.duplicates),
            ms(run.latencyMs.p50),
            ms(run.latencyMs.p90),
            ms(run.latencyMs.p99),
            ms(run.latencyMs.p999),
            ms(run.latencyMs.max),
            ms(run.publishLatencyMs.p99),
            run.cpuPercent,
            run.peakRssMB,
          ],
    ),
  );
}

/** `sluice bench`: each broker in turn on the same workload; a table, and JSON / HTML if asked. */
export async function benchCommand(options: BenchCommandOptions): Promise<number> {
  const output: BenchOutput = { kind: 'bench', machine: machine(), startedAt: new Date().toISOString(), runs: [] };
  const progress = (line: string) => {
    if (!options.quiet && process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
    else if (!options.quiet) process.stderr.write(`${line}\n`);
  };
  // Every broker, client and profile checked before the first run: a typo fails at once.
  const brokers: ResolvedBroker[] = [];
  for (const spec of options.brokers) {
    const resolved = await resolveBroker(spec, profileFor(options.profiles, { spec, type: spec.split(':')[0]! }), '--brokers', options.set);
    const same = brokers.find((other) => other.label === resolved.label);
    if (same) throw new ConfigError('--brokers', `${same.spec} and ${spec} are the same run (${resolved.label})`);
    brokers.push(resolved);
  }
  for (const broker of brokers) {
    const profile = profileFor(options.profiles, broker);
    let rate = options.rate;
    if (rate === 'max') {
      const search = await findMaxRate(broker.spec, options.workload, profile, progress, options.set);
      output.maxRate = { ...output.maxRate, [broker.label]: search };
      rate = search.rate;
      process.stderr.write(`\n${broker.label}: max sustained rate ${num(rate)} events/s\n`);
      if (rate === 0) continue;
    }
    try {
      output.runs.push(await runBroker(broker.spec, { ...options.workload, rate }, { profile, set: options.set, onProgress: progress }));
    } catch (error) {
      output.runs.push({ broker: broker.label, workload: { ...options.workload, rate }, error: (error as Error).message } as BrokerRun);
    }
    if (!options.quiet) process.stderr.write('\n');
  }
  process.stdout.write(`${benchTable(output.runs)}\n`);
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
