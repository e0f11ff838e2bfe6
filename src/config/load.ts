import { readFile } from 'node:fs/promises';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../errors.ts';
import { readEnv } from './env.ts';
import { interpolate } from './interpolate.ts';
import { type ConfigIssue, ConfigErrors, throwIssues } from './issues.ts';
import { knownKeyPaths } from './keys.ts';
import { fileOrigins, Origins } from './locate.ts';
import type { SluiceConfig } from './schema.ts';
import { readSets } from './set.ts';
import { validateConfig } from './validate.ts';
import { deepMerge, isPlainObject } from './values.ts';

/**
 * Loading a config: four layers, each over the one before:
 *
 *   schema defaults  <  the YAML file  <  SLUICE_<SECTION>__<KEY> variables  <  --set key.path=value
 *
 * The file's string values may use `${VAR}` / `${VAR:-default}` (interpolate.ts); the variables'
 * naming rule is in env.ts; `--set` in set.ts. Every problem of every layer is reported at once
 * (exit status 2), each naming its key and where its value came from: the file and line
 * (locate.ts), the environment variable, or the flag.
 */
export { ENV_PREFIX, envOverrides } from './env.ts';
export { validateConfig } from './validate.ts';
export { deepMerge } from './values.ts';

export interface LoadOptions {
  /** `--set key.path=value` flags, in order. */
  set?: readonly string[];
  /**
   * Problems found outside the schema, reported with the schema's when the config does not
   * validate (`config check`: a handler module that does not load), so that all show at once.
   */
  whenInvalid?: (raw: Record<string, unknown>, origins: Origins) => Promise<ConfigIssue[]>;
}

/** Reads a YAML file (optional), applies environment variables and `--set` flags, validates. */
export async function loadConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  options: LoadOptions = {},
): Promise<SluiceConfig> {
  return (await loadLocatedConfig(path, env, options)).config;
}

/**
 * {@link loadConfig}, and where each key came from: `config check` reports the problems it finds
 * after validation (a handler module that does not load) at the line, variable or flag too.
 */
export async function loadLocatedConfig(
  path: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  options: LoadOptions = {},
): Promise<{ config: SluiceConfig; origins: Origins }> {
  const file = path ? await readConfigFile(path, env) : { values: {}, origins: new Origins(), issues: [] };
  // The key paths (every adapter's schema) feed only the "did you mean": loaded when needed.
  let fromEnv = readEnv(env);
  if (fromEnv.issues.length > 0) fromEnv = readEnv(env, await knownKeyPaths());
  const fromSet = readSets(options.set ?? []);
  const layerIssues = [...file.issues, ...fromEnv.issues, ...fromSet.issues];
  const raw = deepMerge(deepMerge(file.values, fromEnv.values), fromSet.values);
  const origins = file.origins.overlay(fromEnv.origins).overlay(fromSet.origins);
  try {
    const config = await validateConfig(raw, origins);
    throwIssues(layerIssues);
    return { config, origins };
  } catch (error) {
    if (!(error instanceof ConfigErrors)) throw error;
    // All problems at once; the schema's complaint about a key a layer already reported (the
    // `${VAR}` left in place of an unset variable is not a number) would only repeat it.
    const reported = new Set(layerIssues.map((issue) => issue.key));
    const found = [...layerIssues, ...error.issues.filter((issue) => !reported.has(issue.key))];
    const keys = new Set(found.map((issue) => issue.key));
    const more = (await options.whenInvalid?.(isPlainObject(raw) ? raw : {}, origins)) ?? [];
    throwIssues([...found, ...more.filter((issue) => !keys.has(issue.key))]);
    throw error;
  }
}

/**
 * The file as a config object with the line of every key. An empty file, or one whose top level
 * is a list or a scalar, is an error: it would otherwise run on defaults alone, silently.
 */
async function readConfigFile(path: string, env: NodeJS.ProcessEnv) {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError('(file)', `cannot read ${path}: ${(error as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const broken = doc.errors[0];
  if (broken) {
    const where = broken.pos ? ` at line ${lines.linePos(broken.pos[0]).line}` : '';
    throw new ConfigError('(file)', `${path} is not valid YAML${where}: ${broken.message.split('\n')[0]}`);
  }
  if (doc.contents === null || (!isMap(doc.contents) && doc.contents.toJSON?.() === null)) {
    throw new ConfigError('(file)', `${path} is empty: give at least one section (broker:, queue:, …), or no file to run on the defaults`);
  }
  if (!isMap(doc.contents)) {
    const found = isSeq(doc.contents) ? 'a list' : `a scalar (${JSON.stringify(doc.contents.toJSON())})`;
    throw new ConfigError('(file)', `${path}: the top level must be a mapping of sections (broker:, queue:, …), found ${found}`);
  }
  const issues = interpolate(doc, env, path, lines);
  return { values: (doc.toJS() ?? {}) as Record<string, unknown>, origins: fileOrigins(doc, lines, path), issues };
}
