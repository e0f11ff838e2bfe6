import { type ConfigIssue, closest } from './issues.ts';
import { envName } from './keys.ts';
import { Origins } from './locate.ts';
import { configSchema } from './schema.ts';
import { parseScalar, setPath } from './values.ts';

/** Environment variables that override config keys start with this. */
export const ENV_PREFIX = 'SLUICE_';

/**
 * One prefix, two kinds of variable, told apart by their shape:
 *
 * - **Config**: `SLUICE_<SECTION>__<KEY>`, the key path in upper snake case with `__` between
 *   levels: `SLUICE_QUEUE__MAX_EVENTS=5000` sets `queue.maxEvents`,
 *   `SLUICE_BROKER__KAFKA__BROKERS` sets `broker.kafka.brokers`. Every key sits at least two
 *   levels deep, so every config variable has a `__`. Values are read as YAML scalars: numbers
 *   and booleans keep their type, `[a, b]` is a list.
 * - **Not config**: variables without `__` that do not start with a section name
 *   (`SLUICE_CONFIG`, `SLUICE_INSTANCE_ID`, and the tools' and tests' `SLUICE_BROKERS`,
 *   `SLUICE_KAFKA_BROKERS`, `SLUICE_TEST_LOG`, …). Sluice ignores them here.
 *
 * A variable that looks like config but is not (`SLUICE_QUEUE_MAX_EVENTS`, one underscore) is
 * an error with the likely intended name, rather than silently ignored; an unknown key behind
 * a `__` is an unknown key like one in the file.
 */
export interface EnvLayer {
  values: Record<string, unknown>;
  origins: Origins;
  issues: ConfigIssue[];
}

/** The sections of the config (`QUEUE`, `DEAD_LETTER`, …) as they start a variable's name. */
const sectionPrefixes = Object.keys(configSchema.shape).map((key) => envName(key).slice(ENV_PREFIX.length));

/** Whether a variable without `__` starts like a config variable: a section's name, alone or then `_`. */
function looksLikeConfig(rest: string): boolean {
  return sectionPrefixes.some((section) => rest === section || rest.startsWith(`${section}_`));
}

/** Reads the config variables of `env`; `known` (key paths) feeds the "did you mean". */
export function readEnv(env: NodeJS.ProcessEnv, known: readonly string[] = []): EnvLayer {
  const layer: EnvLayer = { values: {}, origins: new Origins(), issues: [] };
  const names = configVariables(known);
  for (const [name, raw] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const rest = name.slice(ENV_PREFIX.length);
    if (!rest.includes('__')) {
      if (looksLikeConfig(rest)) {
        layer.issues.push({
          key: name,
          reason: `not read: config variables separate levels with a double underscore${suggestion(name, names)}`,
        });
      }
      continue;
    }
    const path = rest.split('__').map(snakeToCamel);
    if (path.some((part) => part === '')) {
      layer.issues.push({ key: name, reason: `not read: empty level in the name${suggestion(name, names)}` });
      continue;
    }
    setPath(layer.values, path, parseScalar(raw));
    layer.origins.set(path, { env: name });
  }
  return layer;
}

/** The config object of `env`'s config variables alone (no checks): deploy checks, tests. */
export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  return readEnv(env).values;
}

/** The config variables of key paths: those at least two levels deep. */
export function configVariables(known: readonly string[]): string[] {
  return known.filter((path) => path.includes('.')).map(envName);
}

/**
 * The variable meant: the same name with `__` where `_` was written, else one that ends like
 * it (`SLUICE_KAFKA__BROKERS` → `SLUICE_BROKER__KAFKA__BROKERS`), else the closest spelling.
 */
export function suggestEnv(name: string, names: readonly string[]): string | undefined {
  const flat = (text: string) => text.replace(/__/g, '_');
  const exact = names.find((candidate) => flat(candidate) === flat(name));
  if (exact) return exact;
  const rest = name.slice(ENV_PREFIX.length);
  if (rest.includes('__')) {
    const tail = names.filter((candidate) => candidate.endsWith(`__${rest}`));
    if (tail.length === 1) return tail[0];
  }
  return closest(name, names);
}

function suggestion(name: string, names: readonly string[]): string {
  const meant = suggestEnv(name, names);
  return meant ? `; did you mean ${meant}?` : ' (config variables are SLUICE_<SECTION>__<KEY>, e.g. SLUICE_QUEUE__MAX_EVENTS)';
}

function snakeToCamel(text: string): string {
  return text.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
