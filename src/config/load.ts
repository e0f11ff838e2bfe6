import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { ZodError, ZodType } from 'zod';
import { adapters } from '../broker/registry.ts';
import { ConfigError } from '../errors.ts';
import { configSchema, type SluiceConfig } from './schema.ts';

/** Environment variables that override config keys start with this. */
export const ENV_PREFIX = 'SLUICE_';

/**
 * `SLUICE_QUEUE__MAX_EVENTS=5000` sets `queue.maxEvents`: the prefix, then the key path with
 * `__` between levels and each level in upper snake case. Values are read as YAML scalars, so
 * numbers and booleans keep their type (`SLUICE_POOL__ORDER_BY_KEY=true`) and a YAML flow
 * sequence is a list (`SLUICE_BROKER__KAFKA__BROKERS='[h1:9092, h2:9092]'`).
 */
export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    // Every key sits at least two levels deep, so a variable without `__` (SLUICE_BROKERS, used
    // by the local broker scripts) is not a config key.
    const path = name.slice(ENV_PREFIX.length).split('__').map(snakeToCamel);
    if (path.length < 2 || path.some((part) => part === '')) continue;
    let target = result;
    for (const part of path.slice(0, -1)) {
      if (typeof target[part] !== 'object' || target[part] === null) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    target[path[path.length - 1]!] = parseScalar(raw);
  }
  return result;
}

function snakeToCamel(text: string): string {
  return text.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseScalar(raw: string): unknown {
  try {
    const value: unknown = parseYaml(raw);
    return value === null || (typeof value === 'object' && !Array.isArray(value)) ? raw : value;
  } catch {
    return raw;
  }
}

export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) result[key] = deepMerge(base[key], value);
  return result;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The first problem of a zod error as a ConfigError naming the dotted key. */
function toConfigError(error: ZodError, prefix: string[] = []): ConfigError {
  const issue = error.issues[0]!;
  const path = [...prefix, ...issue.path.map(String)];
  let key = path.join('.') || '(root)';
  let reason = issue.message;
  if (issue.code === 'unrecognized_keys') {
    key = [...path, issue.keys[0]].join('.');
    reason = `unknown key${issue.keys.length > 1 ? ` (also: ${issue.keys.slice(1).join(', ')})` : ''}`;
  }
  return new ConfigError(key, reason);
}

async function validateSection(schema: ZodType, value: unknown, prefix: string[]): Promise<unknown> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw toConfigError(parsed.error, prefix);
  return parsed.data;
}

/**
 * Validates a raw config object (file merged with environment): the core schema, then the
 * section of the selected broker (and of the dead-letter broker, if another one is named).
 */
export async function validateConfig(raw: unknown): Promise<SluiceConfig> {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw toConfigError(parsed.error);
  const config = parsed.data;
  const type = config.broker.type;
  const entry = adapters[type];
  if (!entry) throw new ConfigError('broker.type', `unknown broker "${type}" (known: ${Object.keys(adapters).join(', ')})`);
  config.broker[type] = (await validateSection(await entry.schema(), config.broker[type], ['broker', type])) as Record<string, unknown>;
  if (config.deadLetter.type === 'broker') {
    const dlqType = config.deadLetter.broker.type ?? type;
    const dlqEntry = adapters[dlqType];
    if (!dlqEntry) throw new ConfigError('deadLetter.broker.type', `unknown broker "${dlqType}"`);
    if (config.deadLetter.broker.type) {
      config.deadLetter.broker[dlqType] = (await validateSection(
        await dlqEntry.schema(),
        config.deadLetter.broker[dlqType] ?? config.broker[dlqType],
        ['deadLetter', 'broker', dlqType],
      )) as Record<string, unknown>;
    }
  }
  return config;
}

/** Reads a YAML file (optional), applies environment overrides, validates. */
export async function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<SluiceConfig> {
  let fromFile: unknown = {};
  if (path) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ConfigError('(file)', `cannot read ${path}: ${(error as Error).message}`);
    }
    try {
      fromFile = parseYaml(text) ?? {};
    } catch (error) {
      const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}` : '';
      throw new ConfigError('(file)', `${path} is not valid YAML${where}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return validateConfig(deepMerge(fromFile, envOverrides(env)));
}
