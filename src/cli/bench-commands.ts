// The benchmark commands of the `sluice` CLI: bench-core, bench and tune. Every flag is parsed
// and checked here, as commander reads it, so a bad value fails before a broker is touched or a
// child process started; durations and sizes go through ./units.ts like every other flag.
import type { Command } from 'commander';
import { parseWork } from '../bench/rate.ts';
import { ConfigError } from '../errors.ts';
import { keySampler, keySkewForms } from '../simulate/keys.ts';
import { Random } from '../simulate/random.ts';
import { meanRate, parseWorkload, workloadForms } from '../simulate/workload.ts';
import { count, duration, parseDuration, size, sizeForms } from './units.ts';
import { setFlag } from './set-flag.ts';
import { addSimulateCommand } from './simulate-command.ts';

/**
 * A duration in whole seconds: `bench` measures, and cuts its warm-up, per second of its series,
 * so `--duration 1500ms` would be measured as 1 s and reported as 1.5: refused instead.
 */
const wholeSeconds = (flag: string) => (value: string) => {
  const seconds = parseDuration(value, flag, 's');
  if (!Number.isInteger(seconds)) throw new ConfigError(flag, `expected whole seconds (the bench measures per second), got "${value}"`);
  return seconds;
};
const countList = (flag: string) => (value: string) => value.split(',').map((v) => count(flag)(v.trim()));

interface WorkloadFlags {
  duration: number;
  warmup: number;
  messageSize: number;
  keys: number;
  keySkew: string;
  partitions: number;
  work: string;
  drainTimeout: number;
  out?: string;
  report?: string;
  quiet?: boolean;
  set?: string[];
  workload?: string;
  seed: number;
  producers?: number;
}

function workloadOptions(command: Command): Command {
  return command
    .option('--duration <time>', 'measured time: 60, 60s, 2m (whole seconds; a bare number is seconds)', wholeSeconds('--duration'), 60)
    .option('--warmup <time>', 'warm-up, not in latency figures: 5, 5s (whole seconds)', wholeSeconds('--warmup'), 5)
    .option('--message-size <size>', `event size: ${sizeForms}`, size('--message-size'), 1024)
    .option('--keys <n>', 'distinct keys', count('--keys'), 100)
    .option('--key-skew <spec>', keySkewForms, 'uniform')
    .option('--partitions <n>', 'Kafka partitions / Kinesis shards of the fresh destination', count('--partitions'), 4)
    .option(
      '--workload <spec>',
      `arrivals, as sluice simulate takes them (t = 0 is the start of the warm-up; instead of --rate): ${workloadForms}`,
    )
    .option('--seed <n>', 'seed of Poisson arrivals: the same seed gives the same arrival times', count('--seed'), 1)
    .option(
      '--producers <n>',
      'producer processes splitting the load (threads on the memory broker; default on Kafka: one per 20,000/s of the peak rate with kafkajs, per 40,000/s with platformatic, at most one per CPU but one; else 1)',
      count('--producers'),
    )
    .option('--work <spec>', 'handler work: none, fixed:<ms>, exp:<ms> (exponential mean), cpu:<ms> (busy loop)', 'none')
    .option(
      '--drain-timeout <time>',
      'longest wait for the last events after production ends: 60, 30s, 2m (a bare number is seconds)',
      duration('--drain-timeout', 's'),
      60,
    )
    .option('--out <file>', 'write all results and series as JSON')
    .option('--report <file>', 'write a self-contained HTML report with charts')
    .option('-q, --quiet', 'no progress line on stderr (the results still print)');
}

/**
 * `--workload` (parsed by simulate's parser, so one spec means the same arrivals in both) or
 * `--rate N` (= constant:N/s), never both; `rate` is then the mean offered rate over warm-up +
 * duration. `--rate max` searches a constant rate: a shape is refused with it.
 */
function arrivalsOf(o: WorkloadFlags, rate: string | undefined, fallback: number): { rate: number | 'max'; spec?: string } {
  if (o.workload === undefined) {
    const value = rate ?? String(fallback);
    if (value === 'max') return { rate: 'max' };
    const n = count('--rate')(value);
    return { rate: n, spec: `constant:${n}/s` };
  }
  if (rate === 'max') throw new ConfigError('--rate', '--rate max searches a constant rate: it does not take a --workload shape');
  if (rate !== undefined)
    throw new ConfigError('--workload', `--rate ${rate} and --workload both give the arrivals: pass one (--rate N is constant:N/s)`);
  const shape = parseWorkload(o.workload);
  return { rate: Math.round(meanRate(shape, o.warmup + o.duration) * 100) / 100, spec: o.workload };
}

function workloadOf(o: WorkloadFlags) {
  try {
    parseWork(o.work);
  } catch (error) {
    throw new ConfigError('--work', (error as Error).message);
  }
  keySampler(o.keys, o.keySkew, new Random(1)); // a bad --key-skew fails before a broker is touched
  return {
    seed: o.seed,
    producers: o.producers,
    durationS: o.duration,
    warmupS: o.warmup,
    messageSize: o.messageSize,
    keys: o.keys,
    keySkew: o.keySkew,
    partitions: o.partitions,
    work: o.work,
    drainTimeoutS: o.drainTimeout,
  };
}

function profiles(values: string[]): Record<string, string> {
  return Object.fromEntries(
    values.map((value) => {
      const [broker, file] = value.split('=');
      if (!broker || !file) throw new ConfigError('--profile', `expected broker=file, got ${value}`);
      return [broker, file];
    }),
  );
}

/** Adds bench-core, bench and tune to `program`; each reports its exit code through `done`. */
export function addBenchCommands(program: Command, done: (code: number) => void): void {
  addSimulateCommand(program, done);
  program
    .command('bench-core')
    .description('benchmark the core: memory broker → queue → pool → noop handler (prints one JSON line last)')
    .option('--events <n>', 'events to push', count('--events'), 5_000_000)
    .option('--payload <size>', `payload size: ${sizeForms}`, size('--payload'), 100)
    .option('--overload', 'run the 10x-overload phase, memory growth under overload (the default)')
    .option('--no-overload', 'skip the overload phase')
    .action(async (options: { events: number; payload: number; overload?: boolean }) => {
      const { runCoreBench } = await import('../bench/core-bench.ts');
      done(await runCoreBench({ events: options.events, payloadSize: options.payload, overload: options.overload ?? true }));
    });

  workloadOptions(
    program
      .command('bench')
      .description('run the same workload through each broker and compare throughput, latency, loss and duplicates')
      .option(
        '--brokers <list>',
        'brokers in order, from their config profiles; broker:client picks the client library (kafka:platformatic, kafka:kafkajs), so one broker can run through both',
        'memory',
      )
      .option('--rate <n|max>', 'events per second (open loop; default 10000), or max to search the highest sustained rate')
      .option('--queue-size <n>', "queue.maxEvents (default: the profile's)", count('--queue-size'))
      .option('--pool-size <n>', "pool.size (default: the profile's)", count('--pool-size'))
      .option(
        '--profile <broker=file...>',
        'config profile of a broker (default config/local/<broker>.yaml); kafka:platformatic=file for that variant alone',
        [],
      )
      .option(...setFlag),
  ).action(async (o: WorkloadFlags & { brokers: string; rate?: string; queueSize?: number; poolSize?: number; profile: string[] }) => {
    const { rate, spec } = arrivalsOf(o, o.rate, 10_000);
    const workload = { ...workloadOf(o), spec, queueSize: o.queueSize, poolSize: o.poolSize };
    const { parseBrokerSpec } = await import('../bench/broker-spec.ts');
    const brokers = o.brokers.split(',').map((b) => b.trim());
    for (const broker of brokers) parseBrokerSpec(broker); // an unknown broker fails before any profile is read
    const { benchCommand } = await import('../bench/bench-command.ts');
    done(
      await benchCommand({
        brokers,
        rate,
        workload,
        profiles: profiles(o.profile),
        set: o.set ?? [],
        out: o.out,
        report: o.report,
        quiet: o.quiet,
      }),
    );
  });

  workloadOptions(
    program
      .command('tune')
      .description('sweep queue and pool sizes for one broker; recommend the smallest meeting the p99 SLO with zero loss')
      .option('--broker <name>', 'broker (from its config profile); kafka:platformatic / kafka:kafkajs picks the client', 'memory')
      .option('--rate <n>', 'events per second (default 5000)')
      .option(
        '--slo-p99 <time>',
        'p99 end-to-end latency objective: 100, 100ms, 1.5s (a bare number is milliseconds)',
        duration('--slo-p99', 'ms'),
        100,
      )
      .option('--queue-sizes <list>', 'queue.maxEvents values', countList('--queue-sizes'), [100, 1000, 10000])
      .option('--pool-sizes <list>', 'pool.size values', countList('--pool-sizes'), [1, 4, 16, 64])
      .option('--profile <file>', 'config profile (default config/local/<broker>.yaml)')
      .option(
        '--simulate-first',
        'simulate the grid first (seconds) and measure only what the model finds promising (meets the SLO, or on its Pareto frontier)',
      ),
  ).action(
    async (
      o: WorkloadFlags & {
        broker: string;
        rate?: string;
        sloP99: number;
        queueSizes: number[];
        poolSizes: number[];
        profile?: string;
        simulateFirst?: boolean;
      },
    ) => {
      if (o.rate === 'max') throw new ConfigError('--rate', 'tune takes a number of events per second, not max');
      const { rate, spec } = arrivalsOf(o, o.rate, 5000);
      const workload = { ...workloadOf(o), spec };
      const { parseBrokerSpec } = await import('../bench/broker-spec.ts');
      parseBrokerSpec(o.broker, '--broker');
      const { tuneCommand } = await import('../bench/tune.ts');
      done(
        await tuneCommand({
          broker: o.broker,
          rate: rate as number,
          sloP99Ms: o.sloP99,
          queueSizes: o.queueSizes,
          poolSizes: o.poolSizes,
          workload,
          profile: o.profile,
          out: o.out,
          report: o.report,
          quiet: o.quiet,
          simulateFirst: o.simulateFirst,
        }),
      );
    },
  );
}
