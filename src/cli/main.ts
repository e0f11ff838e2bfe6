import { existsSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import pino from 'pino';
import { Sluice } from '../app.ts';
import { loadConfig } from '../config/load.ts';
import { ConfigError, errorMessage, SluiceError } from '../errors.ts';
import { SummaryReporter } from './summary.ts';

/** Exit codes: 0 done, 1 runtime failure, 2 bad configuration or usage. */
export const EXIT = { ok: 0, failure: 1, config: 2 } as const;

/** `--config`, else $SLUICE_CONFIG, else ./config/default.yaml if present, else defaults only. */
function configPath(option: string | undefined): string | undefined {
  if (option) return option;
  if (process.env.SLUICE_CONFIG) return process.env.SLUICE_CONFIG;
  return existsSync('config/default.yaml') ? 'config/default.yaml' : undefined;
}

async function run(options: { config?: string; quiet?: boolean }): Promise<number> {
  const path = configPath(options.config);
  const config = await loadConfig(path);
  const logger = pino({ level: config.log.level, base: { service: 'sluice' } });
  const sluice = await Sluice.create(config, logger);
  await sluice.start();
  const summary = new SummaryReporter(sluice.pipeline, (line) => process.stderr.write(`sluice ${line}\n`));
  if (!options.quiet) summary.start(config.log.summaryIntervalMs);

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: exiting now without waiting');
        process.exit(130);
      }
      logger.info({ signal, timeoutMs: config.shutdown.timeoutMs }, 'shutting down: finishing in-flight events (signal again to force)');
      summary.stop();
      sluice.stop().then(
        () => resolve(EXIT.ok),
        (error: unknown) => {
          logger.error({ error: errorMessage(error) }, 'shutdown failed');
          resolve(EXIT.failure);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

async function checkConfig(options: { config?: string }): Promise<number> {
  const path = configPath(options.config);
  const config = await loadConfig(path);
  process.stdout.write(`config ${path ?? '(defaults and environment)'} is valid: broker ${config.broker.type}, queue ${config.queue.maxEvents} events, pool ${config.pool.size} ${config.pool.mode}\n`);
  return EXIT.ok;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command()
    .name('sluice')
    .description('Pluggable-broker ingestion gateway: one bounded queue and worker pool behind Kafka, Kinesis, Pub/Sub or an embedded broker.')
    .exitOverride()
    .showHelpAfterError();
  program
    .command('run')
    .description('run the gateway (SIGTERM/SIGINT: graceful shutdown; a second signal forces exit)')
    .option('-c, --config <file>', 'YAML config file (default: $SLUICE_CONFIG or ./config/default.yaml)')
    .option('-q, --quiet', 'no summary line per interval')
    .action(async (options: { config?: string; quiet?: boolean }) => {
      code = await run(options);
    });
  const config = program.command('config').description('configuration tools');
  config
    .command('check')
    .description('validate a config file (and SLUICE_* environment overrides) without starting')
    .option('-c, --config <file>', 'YAML config file')
    .action(async (options: { config?: string }) => {
      code = await checkConfig(options);
    });
  program
    .command('bench-core')
    .description('benchmark the core: memory broker → queue → pool → noop handler (prints one JSON line last)')
    .option('--events <n>', 'events to push', '5000000')
    .option('--payload <bytes>', 'payload size', '100')
    .option('--overload', 'also run a 10x-overload phase and report memory growth')
    .action(async (options: { events: string; payload: string; overload?: boolean }) => {
      const { runCoreBench } = await import('../bench/core-bench.ts');
      code = await runCoreBench({ events: Number(options.events), payloadSize: Number(options.payload), overload: options.overload ?? true });
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.config;
    if (error instanceof ConfigError) {
      process.stderr.write(`sluice: ${error.message}\n`);
      return EXIT.config;
    }
    process.stderr.write(`sluice: ${error instanceof SluiceError ? error.message : (error as Error)?.stack ?? String(error)}\n`);
    return EXIT.failure;
  }
  return code;
}
