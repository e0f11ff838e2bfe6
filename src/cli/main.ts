import { existsSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load.ts';
import type { SluiceConfig } from '../config/schema.ts';
import { ConfigError, errorMessage, SluiceError } from '../errors.ts';
import { runLogger, startSluice } from './run.ts';
import { sluiceVersion } from '../util/runtime.ts';
import { parseFaultFlags } from '../faults/cli-faults.ts';
import { setFlag } from './set-flag.ts';
import { checkConfig } from './config-check.ts';
import { duration, durationForms } from './units.ts';
import { addBenchCommands } from './bench-commands.ts';
import { addCompletionCommand } from './completion.ts';
import { addReplayCommand } from './replay-command.ts';
import { addConfigSchemaCommand } from './config-schema.ts';
import { defaultLogFormat, type LogFormat, LOG_FORMATS, parseLogFormat } from './log-format.ts';

/** Exit codes: 0 done, 1 runtime failure, 2 bad configuration or usage. */
export const EXIT = { ok: 0, failure: 1, config: 2 } as const;

/** `--config`, else $SLUICE_CONFIG, else ./config/default.yaml if present, else defaults only. */
function configPath(option: string | undefined): string | undefined {
  if (option) return option;
  if (process.env.SLUICE_CONFIG) return process.env.SLUICE_CONFIG;
  return existsSync('config/default.yaml') ? 'config/default.yaml' : undefined;
}

interface RunFlags {
  config?: string;
  quiet?: boolean;
  fault?: string[];
  set?: string[];
  logFormat?: LogFormat;
}

async function run(options: RunFlags): Promise<number> {
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
  const logger = runLogger(config, undefined, options.logFormat ?? defaultLogFormat());
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

/**
 * Runs until a signal or a source failure. Signals are handled from the start: a SIGTERM while
 * start-up still waits (on a group join, a lease table, a broker that does not answer yet) is
 * what a rolling deployment sends to a pod that never became ready. Sluice then stops as soon as
 * start-up ends, gracefully (Kinesis leases released, offsets committed); if start-up does not
 * end within `shutdown.timeoutMs`, it exits with nothing committed that was not processed: the
 * broker redelivers whatever was in flight. A second signal always exits at once.
 */
async function runUntilStopped(config: SluiceConfig, logger: Logger, options: { quiet?: boolean }): Promise<number> {
  let signals = 0;
  let requested: ((signal: NodeJS.Signals) => void) | undefined;
  let early: NodeJS.Signals | undefined;
  let startBound: NodeJS.Timeout | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now without waiting');
      process.exit(130);
    }
    if (requested) return requested(signal);
    early = signal;
    logger.info({ signal, timeoutMs: config.shutdown.timeoutMs }, 'signal during start-up: stopping once started (signal again to force)');
    startBound = setTimeout(() => {
      logger.warn({ signal, timeoutMs: config.shutdown.timeoutMs }, 'start-up did not end within the shutdown timeout: exiting');
      process.exit(EXIT.failure);
    }, config.shutdown.timeoutMs).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const running = await startSluice(config, logger, { quiet: options.quiet });
  clearTimeout(startBound); // from here the graceful stop has its own bound
  return new Promise<number>((resolve) => {
    const stop = (code: number) =>
      running.stop().then(
        () => resolve(code),
        (error: unknown) => {
          logger.error({ error: errorMessage(error) }, 'shutdown failed');
          resolve(EXIT.failure);
        },
      );
    requested = (signal) => {
      logger.info({ signal, timeoutMs: config.shutdown.timeoutMs }, 'shutting down: finishing in-flight events (signal again to force)');
      stop(EXIT.ok);
    };
    if (early) {
      logger.info({ signal: early }, 'started after the signal: shutting down');
      stop(EXIT.ok);
      return;
    }
    // The source failed for good: the pipeline stops by itself; exit non-zero for a supervisor.
    running.sluice.pipeline.onFailure(() => stop(EXIT.failure));
  });
}

async function verifyCommand(file: string, options: { json?: boolean }): Promise<number> {
  const { formatAuditReport, verifyAudit } = await import('../audit/verify.ts');
  if (!existsSync(file)) throw new ConfigError('(audit file)', `${file} does not exist`);
  const report = await verifyAudit(file);
  process.stdout.write(`${options.json ? JSON.stringify(report) : formatAuditReport(report)}\n`);
  return report.violations === 0 ? EXIT.ok : EXIT.failure;
}

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
    .option(
      `--log-format <${LOG_FORMATS.join('|')}>`,
      'log lines as JSON, or pretty (one readable line each); default: pretty on a terminal, JSON otherwise',
      parseLogFormat,
    )
    .action(async (options: RunFlags) => {
      code = await run(options);
    });
  const config = program.command('config').description('configuration tools');
  config
    .command('check')
    .description(
      'validate a config as `run` would before connecting: schema, handler module, broker requirements (exit 2 on a problem); --connect also reaches the broker and each resource (exit 1 if one fails)',
    )
    .option('-c, --config <file>', 'YAML config file')
    .option(...setFlag)
    .option('--connect', 'also reach the broker and each topic, stream, lease table, subscription and dead-letter destination')
    .option('--timeout <duration>', `bound on each --connect check: ${durationForms('s')}`, duration('--timeout', 's'), 5)
    .action(async (options: { config?: string; set?: string[]; connect?: boolean; timeout: number }) => {
      code = await checkConfig(configPath(options.config), {
        set: options.set,
        connect: options.connect,
        timeoutMs: options.timeout * 1000,
      });
    });
  addConfigSchemaCommand(config, (result) => {
    code = result;
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
  addReplayCommand(program, configPath, (result) => {
    code = result;
  });
  addBenchCommands(program, (result) => {
    code = result;
  });
  addCompletionCommand(program);
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
