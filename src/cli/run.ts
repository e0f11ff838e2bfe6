import pino, { type DestinationStream, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Sluice } from '../app.ts';
import type { SluiceConfig } from '../config/schema.ts';
import type { Handler, HandlerWrapper } from '../handler/handler.ts';
import { type LogFormat, prettyDestination } from './log-format.ts';
import { SummaryReporter } from './summary.ts';

/**
 * The logger `sluice run` writes with, at `log.level`: JSON lines (stdout unless told otherwise),
 * or with `format: 'pretty'` one readable line per entry (./log-format.ts) to stdout.
 */
export function runLogger(config: SluiceConfig, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  // A given destination (the benchmarks' stderr) always gets JSON.
  const options = { level: config.log.level, base: { service: 'sluice' } };
  if (destination) return pino(options, destination);
  return format === 'pretty' ? pino(options, prettyDestination()) : pino(options);
}

export interface RunOptions {
  /** Replaces the configured handler module (benchmarks); the wrappers still apply. */
  handler?: Handler;
  /** An outermost handler wrapper (`sluice replay --max`). */
  wrap?: HandlerWrapper;
  registry?: Registry;
  /** No summary line (`sluice run --quiet`). */
  quiet?: boolean;
  /** Where summary lines go (default: stderr, prefixed `sluice `). */
  write?: (line: string) => void;
}

export interface RunningSluice {
  readonly sluice: Sluice;
  readonly summary: SummaryReporter;
  /** Stops the summary line, then Sluice (graceful). */
  stop(): Promise<void>;
}

/**
 * Everything `sluice run` starts for a validated config: Sluice as the DI container builds it
 * (adapter, handler wrappers, metrics server), then the summary line at `log.summaryIntervalMs`.
 * The CLI and the adapter benchmarks both start Sluice here, so what the benchmarks measure is
 * what runs in production.
 */
export async function startSluice(config: SluiceConfig, logger: Logger, options: RunOptions = {}): Promise<RunningSluice> {
  const sluice = await Sluice.create(config, logger, { handler: options.handler, registry: options.registry, wrap: options.wrap });
  await sluice.start();
  const summary = new SummaryReporter(sluice.pipeline, options.write ?? ((line) => process.stderr.write(`sluice ${line}\n`)));
  if (!options.quiet) summary.start(config.log.summaryIntervalMs);
  return {
    sluice,
    summary,
    stop: async () => {
      summary.stop();
      await sluice.stop();
    },
  };
}
