import { parse as parseYaml } from 'yaml';

/**
 * A value from outside YAML (an environment variable, a `--set` flag, an interpolated plain
 * scalar) read as a YAML scalar: `5000` is a number, `true` a boolean, `[a, b]` a list;
 * anything else, and an empty value, stays the string it was.
 */
export function parseScalar(raw: string): unknown {
  try {
    const value: unknown = parseYaml(raw);
    return value === null || (typeof value === 'object' && !Array.isArray(value)) ? raw : value;
  } catch {
    return raw;
  }
}

/** Sets `target.a.b.c = value` for path [a, b, c], making the objects on the way. */
export function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let at = target;
  for (const part of path.slice(0, -1)) {
    if (!isPlainObject(at[part])) at[part] = {};
    at = at[part] as Record<string, unknown>;
  }
  at[path[path.length - 1]!] = value;
}

/** `override` over `base`, objects merged key by key; lists and scalars replaced whole. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) result[key] = deepMerge(base[key], value);
  return result;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
