import type { Command } from 'commander';
import { forwardSchema } from '../bridge/forward-config.ts';
import { adapters } from '../composition/adapters.ts';
import { loadConfig } from '../config/load.ts';
import type { SluiceConfig } from '../config/schema.ts';
import { ConfigError, SluiceError } from '../errors.ts';
import type { HandlerWrapper } from '../handler/handler.ts';
import { defaultLogFormat } from './log-format.ts';
import { runLogger, startSluice } from './run.ts';
import { setFlag } from './set-flag.ts';

/**
 * `sluice replay --from <dead-letter destination> --to <destination>`: republishes dead letters
 * as the original events. It is an ordinary run (the same pipeline, the same forward handler,
 * src/bridge) with the configured broker retargeted to read `--from` as consumer group
 * `--group`, and `handler.forward` publishing to `--to` on that broker with the dead-letter
 * headers dropped: key, payload and the original headers are what the producer sent. Each dead
 * letter is acked (committed) only after its republish was confirmed; a republish that fails every
 * try (handler.retry) is nacked, never written back to a dead-letter destination, and stops the
 * replay with exit status 1. The run ends when caught up (nothing
 * received for `--idle-exit-ms`), prints how many events it replayed, exits 0. SIGTERM/SIGINT
 * stop it gracefully; a SIGKILL leaves what was not committed to be replayed again.
 */
export interface ReplayFlags {
  from: string;
  to: string;
  config?: string;
  set?: string[];
  group?: string;
  max?: number;
  idleExitMs: number;
  quiet?: boolean;
}

/** The run config of a replay: the loaded config retargeted as described above. */
export async function replayConfig(loaded: SluiceConfig, flags: Pick<ReplayFlags, 'from' | 'to' | 'group'>): Promise<SluiceConfig> {
  const type = loaded.broker.type;
  const module = await adapters[type]!.module();
  const group = flags.group ?? module.replayGroup?.(loaded.broker[type] as never, flags.from) ?? `sluice-replay-${flags.from}`;
  let forward: SluiceConfig['handler']['forward'];
  try {
    forward = forwardSchema.parse({ broker: { type }, destination: flags.to, keyFrom: 'key', headers: 'keep', unwrapDeadLetters: true });
  } catch (error) {
    throw new ConfigError('--to', (error as { issues?: { message: string }[] }).issues?.[0]?.message ?? String(error));
  }
  return {
    ...loaded,
    broker: { ...loaded.broker, [type]: module.retarget(loaded.broker[type] as never, flags.from, group) as Record<string, unknown> },
    handler: { ...loaded.handler, module: 'noop', decode: 'none', forward },
    pool: { ...loaded.pool, mode: 'async' },
    deadLetter: { ...loaded.deadLetter, type: 'none' },
    metrics: { ...loaded.metrics, enabled: false },
  };
}

/** Lets `max` events through; later ones wait, then fail (nacked: they stay in the dead-letter destination). */
function limitTo(max: number, reached: () => void): { wrapper: HandlerWrapper; release: () => void; refused: () => number } {
  let started = 0;
  let refused = 0;
  let done = 0;
  let release: () => void = () => undefined;
  const released = new Promise<never>((_, reject) => {
    release = () => reject(new SluiceError(`--max ${max} reached`, { retriable: false }));
  });
  released.catch(() => undefined);
  const wrapper: HandlerWrapper = (next) => async (event, context) => {
    if (started >= max) {
      refused++;
      return released;
    }
    started++;
    await next(event, context);
    if (++done === max) reached();
  };
  return { wrapper, release: () => release(), refused: () => refused };
}

export async function replay(flags: ReplayFlags, configPath: string | undefined, write: (line: string) => void): Promise<number> {
  const loaded = await loadConfig(configPath, process.env, { set: flags.set });
  // Checked here, not in replayConfig: within one process (tests) the memory broker's dead letters can be replayed.
  const unsupported = (await adapters[loaded.broker.type]!.module()).replayUnsupported;
  if (unsupported) throw new ConfigError('broker.type', `sluice replay cannot read broker type ${loaded.broker.type}: ${unsupported}`);
  const config = await replayConfig(loaded, flags);
  const logger = runLogger(config, undefined, defaultLogFormat());
  let stopping: (() => void) | undefined;
  const stopRequested = new Promise<void>((resolve) => (stopping = resolve));
  const limit = flags.max === undefined ? undefined : limitTo(flags.max, () => stopping?.());
  let signals = 0;
  // The first signal stops gracefully (what is in flight is confirmed and committed); a second exits at once.
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    stopping?.();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    const running = await startSluice(config, logger, { quiet: flags.quiet ?? true, wrap: limit?.wrapper });
    const stats = running.sluice.pipeline.stats;
    // Caught up: everything received has finished and nothing new came for idleExitMs.
    let last = -1;
    let since = Date.now();
    const idle = setInterval(() => {
      // A republish that failed every try was nacked (it stays in --from); going on would redeliver it forever.
      if (stats.processed.failed > (limit?.refused() ?? 0)) return stopping?.();
      const seen = stats.received + stats.completed;
      if (seen !== last || stats.received !== stats.completed) {
        last = seen;
        since = Date.now();
      } else if (Date.now() - since >= flags.idleExitMs) stopping?.();
    }, 100);
    running.sluice.pipeline.onFailure(() => stopping?.());
    await stopRequested;
    clearInterval(idle);
    limit?.release();
    await running.stop();
    const replayed = stats.processed.success + stats.processed.retried;
    // Events refused past --max were nacked on purpose: not failures.
    const failed = stats.processed.failed - (limit?.refused() ?? 0);
    write(`replayed ${replayed} events from ${flags.from} to ${flags.to}${failed > 0 ? ` (${failed} failed, left in ${flags.from})` : ''}`);
    return failed > 0 ? 1 : 0;
  } finally {
    clearInterval(keepAlive);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

const positive = (flag: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new ConfigError(flag, `must be a positive integer, got ${value}`);
  return parsed;
};

export function addReplayCommand(
  program: Command,
  configPath: (option: string | undefined) => string | undefined,
  done: (code: number) => void,
): void {
  program
    .command('replay')
    .description(
      'republish dead letters as the original events: read --from on the configured broker, publish to --to, ack each after the publish was confirmed; exits 0 once caught up',
    )
    .requiredOption('--from <destination>', 'the dead-letter topic / stream / topic to read (e.g. orders.dlq)')
    .requiredOption('--to <destination>', 'where to republish; may use {key}, {source}, {header.<name>} (e.g. {header.sluice-source})')
    .option('-c, --config <file>', 'YAML config file: its broker section says how to reach the broker')
    .option(...setFlag)
    .option(
      '--group <name>',
      'consumer group / subscription / application reading --from (default: sluice-replay-<from>; Pub/Sub: the replay subscription, <from>-replay)',
    )
    .option('--max <n>', 'replay at most n events, then stop', positive('--max'))
    .option('--idle-exit-ms <ms>', 'caught up once nothing arrived for this long', positive('--idle-exit-ms'), 5_000)
    .option('-q, --quiet', 'no summary line per interval', true)
    .action(async (flags: ReplayFlags) => {
      done(await replay(flags, configPath(flags.config), (line) => process.stdout.write(`${line}\n`)));
    });
}
