import { adapters } from '../composition/adapters.ts';
import type { AdapterUse } from '../broker/preflight.ts';
import { type ConfigIssue, throwIssues } from '../config/issues.ts';
import { loadLocatedConfig } from '../config/load.ts';
import type { Origins } from '../config/locate.ts';
import type { SluiceConfig } from '../config/schema.ts';
import { isPlainObject } from '../config/values.ts';
import { deadLetterTopicsOf } from '../dead-letter/dead-letter-topics.ts';
import { ConfigError } from '../errors.ts';
import { loadHandler } from '../handler/load.ts';

/**
 * `sluice config check`: everything `sluice run` does before it connects, without connecting, so
 * that a config that passes does not fail at start for a reason a file could tell:
 *
 *  1. load and validate the config (every layer, every problem at once: src/config/load.ts);
 *  2. load the handler module as `run` does (src/handler/load.ts: the same function, so the same
 *     path resolution, from the working directory);
 *  3. ask the adapter of the source, and of a separate dead-letter broker, what its start-up
 *     requires beyond the schema (AdapterModule.preflight: src/broker/preflight.ts).
 *
 * The problems of steps 2 and 3 are reported together, in the format of step 1's (key, reason,
 * file:line or variable or flag); exit status 2. A config the schema refuses is reported with its
 * handler's problem too (step 3 needs validated broker sections). With `--connect`, ./connect-check.ts then
 * reaches the broker and every resource the config names (exit status 1 if any check fails).
 */
export interface CheckFlags {
  set?: string[];
  /** Also reach the broker and the resources the config names. */
  connect?: boolean;
  /** Bound on each `--connect` check, in ms. */
  timeoutMs?: number;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;

export async function checkConfig(
  path: string | undefined,
  flags: CheckFlags,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { config, origins } = await loadLocatedConfig(path, env, {
    set: flags.set,
    // A config the schema refuses has no validated broker sections to ask about; its handler
    // module can still be loaded, and its problem shown with the schema's.
    whenInvalid: async (raw, origins) => {
      const handler = isPlainObject(raw.handler) ? raw.handler.module : undefined;
      return handlerIssues(handler === undefined ? 'noop' : typeof handler === 'string' ? handler : undefined, origins);
    },
  });
  throwIssues(await startupIssues(config, origins, env));
  write(
    `config ${path ?? '(defaults and environment)'} is valid: broker ${config.broker.type}, queue ${config.queue.maxEvents} events, pool ${config.pool.size} ${config.pool.mode}, handler ${config.handler.forward ? `forward to ${config.handler.forward.broker.type} ${config.handler.forward.destination}` : config.handler.module}`,
  );
  if (!flags.connect) return 0;
  const { checkConnections } = await import('./connect-check.ts');
  return (await checkConnections(config, flags.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS, write)) ? 0 : 1;
}

/** A broker section in use: its adapter, what it is used for, and where its keys sit in the config. */
export interface SectionInUse {
  type: string;
  section: unknown;
  use: AdapterUse;
  /** `broker` for the source's section, `deadLetter.broker` for a separate dead-letter broker's, `handler.forward.broker` for a forward destination's. */
  keyPrefix: string;
  /**
   * The forward handler's destination broker (src/bridge). It is checked as a dead-letter
   * destination is (the adapters know two uses: a source, and somewhere to publish to).
   */
  forward?: true;
}

/**
 * The broker sections `run` would start, as the container wires them (src/di/container.ts): the
 * source's, and for `deadLetter.type: broker` the dead-letter broker's (the source's own adapter
 * unless `deadLetter.broker.type` names another). `sources` (what `{source}` of the dead-letter
 * destination may stand for) is known only once connected; the dead-letter use carries none here.
 */
export function sectionsInUse(config: SluiceConfig, sources: readonly string[] = []): SectionInUse[] {
  const type = config.broker.type;
  const sections: SectionInUse[] = [
    { type, section: config.broker[type], use: { role: 'source', deadLetterTopics: deadLetterTopicsOf(config) }, keyPrefix: 'broker' },
  ];
  const dlq = config.deadLetter;
  if (dlq.type === 'broker') {
    const separate = dlq.broker.type !== undefined && dlq.broker.type !== type;
    const dlqType = separate ? dlq.broker.type! : type;
    sections.push({
      type: dlqType,
      section: separate ? dlq.broker[dlqType] : config.broker[type],
      use: { role: 'deadLetter', destination: dlq.destination, sources },
      keyPrefix: separate ? 'deadLetter.broker' : 'broker',
    });
  }
  const forward = config.handler.forward;
  if (forward) {
    const forwardType = forward.broker.type;
    const own = forward.broker[forwardType];
    sections.push({
      type: forwardType,
      section: own ?? config.broker[forwardType],
      use: { role: 'deadLetter', destination: forward.destination, sources },
      keyPrefix: own === undefined ? 'broker' : 'handler.forward.broker',
      forward: true,
    });
  }
  return sections;
}

/** Steps 2 and 3 above: every problem, each located where its key was set. */
export async function startupIssues(config: SluiceConfig, origins: Origins, env: NodeJS.ProcessEnv): Promise<ConfigIssue[]> {
  const errors: ConfigError[] = [];
  for (const { type, section, use, keyPrefix } of sectionsInUse(config)) {
    const module = await adapters[type]!.module();
    for (const error of (await module.preflight?.(section as never, use, env)) ?? []) {
      // An adapter names its keys under `broker.<type>`; a separate dead-letter broker's are under deadLetter.
      errors.push(
        keyPrefix === 'broker' ? error : new ConfigError(error.key.replace(/^(deadLetter\.)?broker\./, `${keyPrefix}.`), error.reason),
      );
    }
  }
  // The source's section serves the dead letters too when they go to the same broker: one report per problem.
  const unique = new Map(errors.map((error) => [`${error.key}\n${error.reason}`, error]));
  const handler = config.handler.forward ? [] : await handlerIssues(config.handler.module, origins);
  return [...handler, ...[...unique.values()].map((error) => located(error, origins))];
}

/** The handler module loaded as `run` loads it (src/handler/load.ts); its problem, if any. */
async function handlerIssues(spec: string | undefined, origins: Origins): Promise<ConfigIssue[]> {
  if (spec === undefined) return [];
  try {
    await loadHandler(spec);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [located(error, origins)];
  }
}

const located = (error: ConfigError, origins: Origins): ConfigIssue => ({
  key: error.key,
  reason: error.reason,
  origin: origins.find(error.key.split('.')),
});
