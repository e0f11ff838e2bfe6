// `sluice run --log-format json|pretty`. JSON lines are for machines (a log shipper, `jq`); a
// person at a terminal reads `12:04:31.207 INFO  sluice running  broker=kafka queue=10000` more
// easily. The default follows where the output goes: pretty on a terminal, JSON anywhere else,
// so a container or a pipe still gets JSON without anyone asking.
//
// The pretty form is formatted here rather than by pino-pretty: it is a few lines, and pino-pretty
// would add a dependency tree (and a worker-thread transport) to every install for a convenience.
import type { DestinationStream } from 'pino';
import { ConfigError } from '../errors.ts';

export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** `--log-format`'s value, or an error naming the flag and the accepted values. */
export function parseLogFormat(value: string): LogFormat {
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  throw new ConfigError('--log-format', `expected ${LOG_FORMATS.join(' or ')}, got "${value}"`);
}

/** Pretty when `out` is a terminal, JSON otherwise. */
export function defaultLogFormat(out: { isTTY?: boolean } = process.stdout): LogFormat {
  return out.isTTY ? 'pretty' : 'json';
}

const LEVELS: Record<number, { label: string; color: number }> = {
  10: { label: 'TRACE', color: 90 },
  20: { label: 'DEBUG', color: 90 },
  30: { label: 'INFO ', color: 32 },
  40: { label: 'WARN ', color: 33 },
  50: { label: 'ERROR', color: 31 },
  60: { label: 'FATAL', color: 35 },
};
/** Fields every line has (or that the line's head already shows): not repeated as key=value. */
const HEAD = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname', 'stack']);

const two = (n: number) => String(n).padStart(2, '0');
function clock(epochMs: number): string {
  const t = new Date(epochMs);
  return `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}.${String(t.getMilliseconds()).padStart(3, '0')}`;
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/**
 * One pino JSON line as a person reads it: local time, level, message, then the other fields as
 * key=value (strings quoted only when they must be), and a stack trace, if any, indented below.
 * A line that is not pino's JSON is passed through unchanged.
 */
export function formatPretty(line: string, colors = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = LEVELS[entry.level as number] ?? { label: String(entry.level).padEnd(5), color: 0 };
  const paint = (code: number, text: string) => (colors && code ? `\x1b[${code}m${text}\x1b[0m` : text);
  // pino's err serializer gives { type, message, stack }: the message inline, the stack below.
  const err = entry.err as { message?: unknown; stack?: unknown } | undefined;
  if (err && typeof err === 'object' && typeof err.stack === 'string') {
    entry.stack ??= err.stack;
    entry.err = err.message;
  }
  const fields = Object.entries(entry)
    .filter(([key]) => !HEAD.has(key))
    .map(([key, v]) => `${paint(2, `${key}=`)}${value(v)}`);
  const head = `${paint(90, clock(typeof entry.time === 'number' ? entry.time : Date.now()))} ${paint(level.color, level.label)} ${entry.msg ?? ''}`;
  const stack = typeof entry.stack === 'string' ? `\n${entry.stack.replace(/^/gm, '    ')}` : '';
  return `${fields.length > 0 ? `${head}  ${fields.join(' ')}` : head}${stack}\n`;
}

/** A pino destination writing pretty lines to `out` (colored when it is a terminal and NO_COLOR is unset). */
export function prettyDestination(out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): DestinationStream {
  const colors = Boolean(out.isTTY) && !process.env.NO_COLOR;
  return { write: (line: string) => void out.write(formatPretty(line, colors)) };
}
