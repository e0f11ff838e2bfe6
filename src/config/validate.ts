import type { ZodError, ZodType } from 'zod';
import { adapters } from '../composition/adapters.ts';
import { configVariables, suggestEnv } from './env.ts';
import { type ConfigIssue, closest, throwIssues } from './issues.ts';
import { knownKeyPaths } from './keys.ts';
import type { Origins } from './locate.ts';
import { configSchema, type SluiceConfig } from './schema.ts';
import { isPlainObject } from './values.ts';

type Path = (string | number)[];

/** Zod's issues as config issues: one per unknown key, paths prefixed by the section's. */
function issuesOf(error: ZodError, prefix: Path): { path: Path; reason: string; unknown?: boolean }[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...(issue.path as Path)];
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: [...path, key], reason: 'unknown key', unknown: true }));
    return [{ path, reason: issue.message }];
  });
}

function validateSection(schema: ZodType, value: unknown, prefix: Path, found: ReturnType<typeof issuesOf>): unknown {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  found.push(...issuesOf(parsed.error, prefix));
  return undefined;
}

const stringAt = (value: unknown, key: string): string | undefined =>
  isPlainObject(value) && typeof value[key] === 'string' ? value[key] : undefined;

/**
 * Validates a raw config object (defaults < file < environment < --set, merged): the core
 * schema, then the section of the selected broker (and of the dead-letter broker, if another
 * one is named). Every problem is reported at once, each with where its value came from when
 * `origins` knows (a file line, an environment variable, a --set flag).
 */
export async function validateConfig(raw: unknown, origins?: Origins): Promise<SluiceConfig> {
  const found: ReturnType<typeof issuesOf> = [];
  const extra: ConfigIssue[] = [];
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) found.push(...issuesOf(parsed.error, []));
  // The broker sections are checked even when the core is not, so that all problems show.
  const rawBroker = isPlainObject(raw) ? raw.broker : undefined;
  const type = parsed.success ? parsed.data.broker.type : (stringAt(rawBroker, 'type') ?? 'memory');
  const sections: Record<string, unknown> = {};
  const entry = adapters[type];
  if (!entry) {
    extra.push({
      key: 'broker.type',
      reason: `unknown broker "${type}" (known: ${Object.keys(adapters).join(', ')})`,
      origin: origins?.find(['broker', 'type']),
    });
  } else {
    sections[type] = validateSection(await entry.schema(), isPlainObject(rawBroker) ? rawBroker[type] : undefined, ['broker', type], found);
  }
  // `broker` takes a section per adapter (another broker's serves a dead-letter broker); a
  // section no adapter owns is a typo that would otherwise be ignored.
  for (const key of isPlainObject(rawBroker) ? Object.keys(rawBroker) : []) {
    if (key !== 'type' && !adapters[key]) found.push({ path: ['broker', key], reason: 'unknown key', unknown: true });
  }
  const deadLetter = isPlainObject(raw) ? raw.deadLetter : undefined;
  const dlqBroker = isPlainObject(deadLetter) ? deadLetter.broker : undefined;
  const dlqType = stringAt(dlqBroker, 'type');
  if (stringAt(deadLetter, 'type') === 'broker' && dlqType !== undefined) {
    const dlqEntry = adapters[dlqType];
    if (!dlqEntry) {
      extra.push({
        key: 'deadLetter.broker.type',
        reason: `unknown broker "${dlqType}"`,
        origin: origins?.find(['deadLetter', 'broker', 'type']),
      });
    } else {
      const value =
        (isPlainObject(dlqBroker) ? dlqBroker[dlqType] : undefined) ?? (isPlainObject(rawBroker) ? rawBroker[dlqType] : undefined);
      sections.deadLetter = validateSection(await dlqEntry.schema(), value, ['deadLetter', 'broker', dlqType], found);
    }
  }
  const forward = await validateForward(raw, type, origins, found, extra);
  const issues = [...(await located(found, origins)), ...extra];
  throwIssues(issues);
  const config = parsed.data!;
  config.broker[type] = sections[type] as Record<string, unknown>;
  if (dlqType !== undefined && sections.deadLetter !== undefined)
    config.deadLetter.broker[dlqType] = sections.deadLetter as Record<string, unknown>;
  if (forward && config.handler.forward) config.handler.forward.broker[forward.type] = forward.section as Record<string, unknown>;
  return config;
}

/** Attaches origins, and to an unknown key the known key (or variable) it is likely a typo of. */
async function located(found: ReturnType<typeof issuesOf>, origins: Origins | undefined): Promise<ConfigIssue[]> {
  const known = found.some((issue) => issue.unknown) ? await knownKeyPaths() : [];
  return found.map(({ path, reason, unknown }) => {
    const origin = origins?.find(path);
    const key = path.join('.') || '(root)';
    if (!unknown) return { key, reason, origin };
    const parent = path.slice(0, -1).join('.');
    const dlqParent = parent.replace(/^(deadLetter\.broker|handler\.forward\.broker)\./, 'broker.');
    const siblings = known.filter((p) => p.slice(0, p.lastIndexOf('.')) === dlqParent).map((p) => p.slice(p.lastIndexOf('.') + 1));
    const meant =
      origin && 'env' in origin
        ? suggestEnv(origin.env, configVariables(known))
        : closest(String(path[path.length - 1]), parent === '' ? known.filter((p) => !p.includes('.')) : siblings);
    return { key, reason: meant ? `${reason}: did you mean ${meant}?` : reason, origin };
  });
}

/**
 * `handler.forward` (src/bridge): its broker's section is validated by that adapter's schema, as a
 * dead-letter broker's is (without one, the source's section of the same type serves); it replaces
 * `handler.module` and runs on the event loop, so neither of those may be set with it.
 */
async function validateForward(
  raw: unknown,
  sourceType: string,
  origins: Origins | undefined,
  found: ReturnType<typeof issuesOf>,
  extra: ConfigIssue[],
): Promise<{ type: string; section: unknown } | undefined> {
  const handler = isPlainObject(raw) ? raw.handler : undefined;
  const forward = isPlainObject(handler) ? handler.forward : undefined;
  if (!isPlainObject(forward)) return undefined;
  const issue = (path: string[], reason: string) => extra.push({ key: path.join('.'), reason, origin: origins?.find(path) });
  if (isPlainObject(handler) && handler.module !== undefined)
    issue(['handler', 'module'], 'set with handler.forward: the forward handler replaces the module, give one of them');
  const pool = isPlainObject(raw) ? raw.pool : undefined;
  if (isPlainObject(pool) && pool.mode === 'threads')
    issue(['pool', 'mode'], 'threads cannot run handler.forward (it publishes from the main thread): use async');
  const type = stringAt(forward.broker, 'type');
  if (type === undefined) return undefined; // the schema reports the missing type
  const entry = adapters[type];
  if (!entry) {
    issue(['handler', 'forward', 'broker', 'type'], `unknown broker "${type}" (known: ${Object.keys(adapters).join(', ')})`);
    return undefined;
  }
  for (const key of isPlainObject(forward.broker) ? Object.keys(forward.broker) : []) {
    if (key !== 'type' && key !== type) issue(['handler', 'forward', 'broker', key], `unknown key: the destination broker is ${type}`);
  }
  const own = isPlainObject(forward.broker) ? forward.broker[type] : undefined;
  // No section of its own: the source's adapter publishes (its section is validated above); an
  // http source would POST the events back into itself.
  if (own === undefined && type === 'http')
    issue(['handler', 'forward', 'broker', 'http', 'publishUrl'], 'an http destination needs the URL of the ingest endpoint to POST to');
  if (own === undefined && type === sourceType) return undefined;
  const prefix = ['handler', 'forward', 'broker', type];
  const section = validateSection(await entry.schema(), own, prefix, found);
  if (type === 'http' && isPlainObject(section) && section.publishUrl === undefined)
    issue([...prefix, 'publishUrl'], 'an http destination needs the URL of the ingest endpoint to POST to');
  return section === undefined ? undefined : { type, section };
}
