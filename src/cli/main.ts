import { existsSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load.ts';
import type { SluiceConfig } from '../config/schema.ts';
import { ConfigError, errorMessage, SluiceError } from '../errors.ts';
import { parseWork } from '../bench/rate.ts';
import { runLogger, startSluice } from './run.ts';
import { sluiceVersion } from '../util/runtime.ts';
import { parseFaultFlags } from '../faults/cli-faults.ts';

/** Exit codes: 0 done, 1 runtime failure, 2 bad configuration or usage. */
export const EXIT = { ok: 0, failure: 1, config: 2 } as const;

/** `--config`, else $SLUICE_CONFIG, else ./config/default.yaml if present, else defaults only. */
function configPath(option: string | undefined): string | undefined {
  if (option) return option;
  if (process.env.SLUICE_CONFIG) return process.env.SLUICE_CONFIG;
  return existsSync('config/default.yaml') ? 'config/default.yaml' : undefined;
}

async function run(options: { config?: string; quiet?: boolean; fault?: string[]; set?: string[] }): Promise<number> {
  const path = configPath(options.config);
  const config = await loadConfig(path, process.env, { set: options.set });
  if (options.fault && options.fault.length > 0) {
    let faults: ReturnType<typeof parseFaultFlags>;
    try {
      faults = parseFaultFlags(options.fault);
    } catch (error) {
      throw new ConfigError('faults', (error as Error).message);
    }
    config.faults = { ...config.faults, ...faults, enabled: true };
  }
  const logger = runLogger(config);
  // A running gateway waits for its broker for as long as it takes. During an outage, or while
  // start-up waits on a lease table or a group, it may hold no open socket and only unref'd timers
  // (a Kinesis source that lost every lease while the lease table was unreachable; two members
  // racing for a fresh lease table): without this ref'd timer Node would find nothing left to do
  // and exit (code 13, an unsettled top-level await) with nothing logged. Armed before start-up,
  // cleared once the run ends.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    return await runUntilStopped(config, logger, options);
  } finally {
    clearInterval(keepAlive);
  }
}

async function runUntilStopped(config: SluiceConfig, logger: Logger, options: { quiet?: boolean }): Promise<number> {
  const running = await startSluice(config, logger, { quiet: options.quiet });
  const sluice = running.sluice;
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now without waiting');
        process.exit(130);
      }
      logger.info({ signal, timeoutMs: config.shutdown.timeoutMs }, 'shutting down: finishing in-flight events (signal again to force)');
      running.stop().then(
        () => resolve(EXIT.ok),
        (error: unknown) => {
          logger.error({ error: errorMessage(error) }, 'shutdown failed');
          resolve(EXIT.failure);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // The source failed for good: the pipeline stops by itself; exit non-zero for a supervisor.
    sluice.pipeline.onFailure(() => {
      running.stop().then(
        () => resolve(EXIT.failure),
        () => resolve(EXIT.failure),
      );
    });
  });
}

async function checkConfig(options: { config?: string; set?: string[] }): Promise<number> {
  const path = configPath(options.config);
  const config = await loadConfig(path, process.env, { set: options.set });
  process.stdout.write(
    `config ${path ?? '(defaults and environment)'} is valid: broker ${config.broker.type}, queue ${config.queue.maxEvents} events, pool ${config.pool.size} ${config.pool.mode}\n`,
  );
  return EXIT.ok;
}

async function verifyCommand(file: string, options: { json?: boolean }): Promise<number> {
  const { formatAuditReport, verifyAudit } = await import('../audit/verify.ts');
  if (!existsSync(file)) throw new ConfigError('(audit file)', `${file} does not exist`);
  const report = await verifyAudit(file);
  process.stdout.write(`${options.json ? JSON.stringify(report) : formatAuditReport(report)}\n`);
  return report.violations === 0 ? EXIT.ok : EXIT.failure;
}

/** `--set key.path=value` (repeatable) of run, config check and bench: over the file and the environment. */
const setFlag = [
  '--set <key.path=value>',
  'set a config key, over the file and SLUICE_* variables (repeatable): --set queue.maxEvents=5000',
  (value: string, previous: string[] = []) => [...previous, value],
] as const;

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command()
    .name('sluice')
    .description(
      'Pluggable-broker ingestion gateway: one bounded queue and worker pool behind Kafka, Kinesis, Pub/Sub or an embedded broker.',
    )
    .version(sluiceVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .showHelpAfterError();
  program
    .command('run')
    .description('run the gateway (SIGTERM/SIGINT: graceful shutdown; a second signal forces exit)')
    .option('-c, --config <file>', 'YAML config file (default: $SLUICE_CONFIG or ./config/default.yaml)')
    .option('-q, --quiet', 'no summary line per interval')
    .option(
      '--fault <name=value>',
      'inject a fault (repeatable; enables faults and PUT /faults): handler-error-rate=0.2, handler-latency=500ms, handler-stall, commit-delay=2s',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(...setFlag)
    .action(async (options: { config?: string; quiet?: boolean; fault?: string[]; set?: string[] }) => {
      code = await run(options);
    });
  const config = program.command('config').description('configuration tools');
  config
    .command('check')
    .description('validate a config file (and SLUICE_* environment overrides) without starting')
    .option('-c, --config <file>', 'YAML config file')
    .option(...setFlag)
    .action(async (options: { config?: string; set?: string[] }) => {
      code = await checkConfig(options);
    });
  program
    .command('audit')
    .description('ack audit tools (audit.file)')
    .command('verify <file>')
    .description('check that every acked event id was completed or dead-lettered before its ack (exit 1 if not)')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      code = await verifyCommand(file, options);
    });
  program
    .command('bench-core')
    .description('benchmark the core: memory broker → queue → pool → noop handler (prints one JSON line last)')
    .option('--events <n>', 'events to push', '5000000')
    .option('--payload <bytes>', 'payload size', '100')
    .option('--overload', 'also run a 10x-overload phase and report memory growth')
    .action(async (options: { events: string; payload: string; overload?: boolean }) => {
      const { runCoreBench } = await import('../bench/core-bench.ts');
      code = await runCoreBench({
        events: Number(options.events),
        payloadSize: Number(options.payload),
        overload: options.overload ?? true,
      });
    });
  const int = (name: string) => (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new ConfigError(name, `expected a number, got ${value}`);
    return n;
  };
  const list = (name: string) => (value: string) => value.split(',').map((v) => int(name)(v.trim()));
  const workloadOptions = (command: Command) =>
    command
      .option('--duration <s>', 'measured seconds', int('--duration'), 60)
      .option('--warmup <s>', 'warm-up seconds (not in latency figures)', int('--warmup'), 5)
      .option('--message-size <bytes>', 'event size', int('--message-size'), 1024)
      .option('--keys <n>', 'distinct keys', int('--keys'), 100)
      .option('--partitions <n>', 'Kafka partitions / Kinesis shards of the fresh destination', int('--partitions'), 4)
      .option('--work <spec>', 'handler work: none, fixed:<ms>, exp:<ms> (exponential mean), cpu:<ms> (busy loop)', 'none')
      .option('--drain-timeout <s>', 'longest wait for the last events after production ends', int('--drain-timeout'), 60)
      .option('--out <file>', 'write all results and series as JSON')
      .option('--report <file>', 'write a self-contained HTML report with charts')
      .option('-q, --quiet', 'no progress lines');
  type WorkloadFlags = {
    duration: number;
    warmup: number;
    messageSize: number;
    keys: number;
    partitions: number;
    work: string;
    drainTimeout: number;
    out?: string;
    report?: string;
    quiet?: boolean;
    set?: string[];
  };
  const workloadOf = (o: WorkloadFlags) => {
    try {
      parseWork(o.work);
    } catch (error) {
      throw new ConfigError('--work', (error as Error).message);
    }
    return {
      durationS: o.duration,
      warmupS: o.warmup,
      messageSize: o.messageSize,
      keys: o.keys,
      partitions: o.partitions,
      work: o.work,
      drainTimeoutS: o.drainTimeout,
    };
  };
  const profiles = (values: string[]) =>
    Object.fromEntries(
      values.map((value) => {
        const [broker, file] = value.split('=');
        if (!broker || !file) throw new ConfigError('--profile', `expected broker=file, got ${value}`);
        return [broker, file];
      }),
    );
  workloadOptions(
    program
      .command('bench')
      .description('run the same workload through each broker and compare throughput, latency, loss and duplicates')
      .option(
        '--brokers <list>',
        'brokers in order, from their config profiles; broker:client picks the client library (kafka:platformatic, kafka:kafkajs), so one broker can run through both',
        'memory',
      )
      .option('--rate <n|max>', 'events per second (open loop), or max to search the highest sustained rate', '10000')
      .option('--queue-size <n>', "queue.maxEvents (default: the profile's)", int('--queue-size'))
      .option('--pool-size <n>', "pool.size (default: the profile's)", int('--pool-size'))
      .option(
        '--profile <broker=file...>',
        'config profile of a broker (default config/local/<broker>.yaml); kafka:platformatic=file for that variant alone',
        [],
      )
      .option(...setFlag),
  ).action(async (o: WorkloadFlags & { brokers: string; rate: string; queueSize?: number; poolSize?: number; profile: string[] }) => {
    const { benchCommand } = await import('../bench/bench-command.ts');
    const rate = o.rate === 'max' ? 'max' : int('--rate')(o.rate);
    code = await benchCommand({
      brokers: o.brokers.split(',').map((b) => b.trim()),
      rate,
      workload: { ...workloadOf(o), queueSize: o.queueSize, poolSize: o.poolSize },
      profiles: profiles(o.profile),
      set: o.set ?? [],
      out: o.out,
      report: o.report,
      quiet: o.quiet,
    });
  });
  workloadOptions(
    program
      .command('tune')
      .description('sweep queue and pool sizes for one broker; recommend the smallest meeting the p99 SLO with zero loss')
      .option('--broker <name>', 'broker (from its config profile); kafka:platformatic / kafka:kafkajs picks the client', 'memory')
      .option('--rate <n>', 'events per second', int('--rate'), 5000)
      .option('--slo-p99 <ms>', 'p99 end-to-end latency objective', int('--slo-p99'), 100)
      .option('--queue-sizes <list>', 'queue.maxEvents values', list('--queue-sizes'), [100, 1000, 10000])
      .option('--pool-sizes <list>', 'pool.size values', list('--pool-sizes'), [1, 4, 16, 64])
      .option('--profile <file>', 'config profile (default config/local/<broker>.yaml)'),
  ).action(
    async (
      o: WorkloadFlags & { broker: string; rate: number; sloP99: number; queueSizes: number[]; poolSizes: number[]; profile?: string },
    ) => {
      const { tuneCommand } = await import('../bench/tune.ts');
      code = await tuneCommand({
        broker: o.broker,
        rate: o.rate,
        sloP99Ms: o.sloP99,
        queueSizes: o.queueSizes,
        poolSizes: o.poolSizes,
        workload: workloadOf(o),
        profile: o.profile,
        out: o.out,
        report: o.report,
        quiet: o.quiet,
      });
    },
  );
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.config;
    if (error instanceof ConfigError) {
      process.stderr.write(`sluice: ${error.message}\n`);
      return EXIT.config;
    }
    process.stderr.write(`sluice: ${error instanceof SluiceError ? error.message : ((error as Error)?.stack ?? String(error))}\n`);
    return EXIT.failure;
  }
  return code;
}
