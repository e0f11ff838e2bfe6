import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { ZodType } from 'zod';
import { adapters, brokerTypes } from '../composition/adapters.ts';
import { deepMerge, validateConfig } from '../config/load.ts';
import { throwIssues } from '../config/issues.ts';
import { readSets } from '../config/set.ts';
import type { SluiceConfig } from '../config/schema.ts';
import { ConfigError, SluiceError } from '../errors.ts';

/**
 * A broker of `sluice bench --brokers`: a broker type, optionally with the client library to
 * reach it through (`kafka:platformatic`), which overrides the profile's `broker.<type>.client`.
 * One broker can so be benchmarked through two clients in one run, side by side.
 */
export interface BrokerSpec {
  /** As given: `kafka:platformatic`. */
  spec: string;
  type: string;
  client?: string;
}

export interface ResolvedBroker extends BrokerSpec {
  /** The name of its series in tables and reports: `kafka (platformatic)`, or the type alone. */
  label: string;
  /** The profile, with the client override applied. */
  raw: Record<string, unknown>;
  config: SluiceConfig;
}

/**
 * The config a broker runs with in a benchmark: `config/local/<broker>.yaml` (the local stack of
 * `npm run brokers:up`) unless a profile file is given. Never a cloud default: a benchmark must
 * not reach out of the machine by accident.
 */
export async function loadProfile(broker: string, path?: string): Promise<Record<string, unknown>> {
  if (broker === 'memory' && !path) return { broker: { type: 'memory' } };
  const file = path ?? `config/local/${broker}.yaml`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new SluiceError(`no profile for broker ${broker}: ${file} is missing (pass --profile ${broker}=FILE)`);
  }
  const raw = (parseYaml(text) ?? {}) as Record<string, unknown>;
  const type = (raw.broker as { type?: string } | undefined)?.type;
  if (type !== broker) throw new SluiceError(`profile ${file} has broker.type ${type ?? '(none)'}, expected ${broker}`);
  return raw;
}

/** `type` or `type:client`, the type one Sluice knows; the flag is named in the error. */
export function parseBrokerSpec(spec: string, flag = '--brokers'): BrokerSpec {
  const [type = '', client, ...rest] = spec.trim().split(':');
  if (!adapters[type])
    throw new ConfigError(flag, `unknown broker ${type || '(empty)'} in ${spec} (expected one of ${brokerTypes().join(', ')})`);
  if (rest.length > 0 || client === '') throw new ConfigError(flag, `expected broker or broker:client, got ${spec}`);
  return client === undefined ? { spec, type } : { spec, type, client };
}

/** Whether the broker's config section has a `client` key that takes this value; why not, if not. */
async function checkClient(type: string, client: string, spec: string, flag: string): Promise<void> {
  const schema: ZodType = await adapters[type]!.schema();
  const result = schema.safeParse({ client });
  if (result.success) return;
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys' && issue.keys.includes('client'))
      throw new ConfigError(flag, `${spec}: broker ${type} has no client to choose (write ${type} alone)`);
    if (issue.path[0] === 'client') throw new ConfigError(flag, `${spec}: client ${client}: ${issue.message}`);
  }
}

/**
 * The broker a spec names, with its profile (`config/local/<type>.yaml`, or `profile`), the
 * client override and `--set` flags (`set`) applied and the result validated: a bad spec fails
 * here, before anything runs.
 */
export async function resolveBroker(
  spec: string,
  profile?: string,
  flag = '--brokers',
  set: readonly string[] = [],
): Promise<ResolvedBroker> {
  const parsed = parseBrokerSpec(spec, flag);
  const { type, client } = parsed;
  if (client !== undefined) await checkClient(type, client, spec, flag);
  let raw = await loadProfile(type, profile);
  if (client !== undefined) {
    const broker = raw.broker as Record<string, unknown>;
    raw = { ...raw, broker: { ...broker, [type]: { ...(broker[type] as object), client } } };
  }
  const sets = readSets(set);
  throwIssues(sets.issues);
  raw = deepMerge(raw, sets.values) as Record<string, unknown>;
  const config = await validateConfig(raw, sets.origins);
  const chosen = (config.broker[type] as { client?: unknown } | undefined)?.client;
  return { ...parsed, raw, config, label: typeof chosen === 'string' ? `${type} (${chosen})` : type };
}

/** `--profile kafka:platformatic=FILE` for that variant alone, else `--profile kafka=FILE`. */
export const profileFor = (profiles: Record<string, string>, spec: BrokerSpec): string | undefined =>
  profiles[spec.spec] ?? profiles[spec.type];
