// Durations and sizes as people type them on the command line (`10s`, `500ms`, `1KiB`, `64MB`).
// Every CLI flag that takes a duration or a size parses it here, so all of them accept the same
// forms and fail the same way: before any work starts, naming the flag and the accepted forms.
//
// Sizes follow the config's convention (config/default.yaml writes 67108864 as "64 MiB"): the
// IEC units are binary (KiB = 1024 B) and the SI ones decimal (KB = 1000 B), as their standards
// say, so `64MB` and `64MiB` are both accepted and never silently mean the same thing.
import { ConfigError } from '../errors.ts';

export type DurationUnit = 'ms' | 's';

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_BYTES: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
};
const NUMBER_AND_UNIT = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/i;

/** The accepted forms of a duration, for help texts and errors: `500ms, 10s, 5m, 1h (a bare number is <unit>)`. */
export const durationForms = (unit: DurationUnit) => `500ms, 10s, 5m, 1h (a bare number is ${unit === 's' ? 'seconds' : 'milliseconds'})`;

/** The accepted forms of a size, for help texts and errors. */
export const sizeForms = '512 (bytes), 1KB (1000 B), 1KiB (1024 B), 64MB, 1MiB, 1GiB';

/**
 * A duration in `unit` (fractions kept: `500ms` is 0.5 s). A bare number is already in `unit`,
 * so `--duration 60` keeps meaning 60 seconds. Throws a {@link ConfigError} naming `flag`.
 */
export function parseDuration(value: string, flag: string, unit: DurationUnit): number {
  const match = NUMBER_AND_UNIT.exec(value.trim());
  const suffix = match?.[2]?.toLowerCase() || unit;
  const factor = DURATION_MS[suffix];
  if (!match || factor === undefined) throw new ConfigError(flag, `expected a duration such as ${durationForms(unit)}, got "${value}"`);
  return (Number(match[1]) * factor) / DURATION_MS[unit]!;
}

/** A size in whole bytes (`1.5KiB` is 1536; fractions of a byte are rounded). Throws a {@link ConfigError} naming `flag`. */
export function parseSize(value: string, flag: string): number {
  const match = NUMBER_AND_UNIT.exec(value.trim());
  const factor = SIZE_BYTES[match?.[2]?.toLowerCase() || 'b'];
  if (!match || factor === undefined) throw new ConfigError(flag, `expected a size such as ${sizeForms}, got "${value}"`);
  return Math.round(Number(match[1]) * factor);
}

/** A non-negative count (`--keys 100`, `--rate 5000`); `_` and `,` separators are not accepted. */
export function parseCount(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new ConfigError(flag, `expected a number, got "${value}"`);
  return n;
}

/** Commander argument parsers naming their flag: `.option('--duration <time>', '…', duration('--duration', 's'), 60)`. */
export const duration = (flag: string, unit: DurationUnit) => (value: string) => parseDuration(value, flag, unit);
export const size = (flag: string) => (value: string) => parseSize(value, flag);
export const count = (flag: string) => (value: string) => parseCount(value, flag);

/**
 * For the scripts that read their flags at the top level (`npm run bench:kafka -- --seconds 20s`):
 * the parsed value, or, on a bad one, the error on stderr and exit code 2 before anything starts.
 */
export function flagOrExit<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.key}: ${error.reason}\n`);
    process.exit(2);
  }
}
