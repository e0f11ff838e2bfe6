/**
 * Turns a request body into events, all or nothing: the whole body is validated before any event
 * is delivered, so a 400 means none of the request's events were taken. Errors name where the
 * problem is (the NDJSON line, the array index) and which field.
 *
 * An event is `{ id?, key?, headers?, payload }` or `{ id?, key?, headers?, payloadBase64 }`:
 * `payload` is any JSON value and the event's payload is its JSON text (a handler that parses
 * it gets the value back); `payloadBase64` carries bytes as they are.
 */

/** One event as the client sent it, validated. */
export interface ParsedEvent {
  readonly id: string | undefined;
  readonly key: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: Buffer;
}

export type BodyFormat = 'json' | 'ndjson';

/** Why a body was refused: `status` 400 (bad input) or 413 (too many events). */
export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
    /** Where: `line` (NDJSON, from 1) or `index` (JSON array, from 0), and the field if any. */
    readonly where: { line?: number; index?: number; field?: string } = {},
  ) {
    super(message);
  }
}

const FIELDS = new Set(['id', 'key', 'headers', 'payload', 'payloadBase64']);
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_ID_LENGTH = 1024;

/** Content-Type → format; undefined for a type the endpoint does not take (415). */
export function formatOf(contentType: string | undefined): BodyFormat | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return 'json';
  if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl') return 'ndjson';
  return undefined;
}

export function parseBody(body: Buffer, format: BodyFormat, maxEvents: number): ParsedEvent[] {
  const events = format === 'json' ? parseJson(body, maxEvents) : parseNdjson(body, maxEvents);
  if (events.length === 0) throw new BodyError(400, 'the body holds no event');
  return events;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function decode(bytes: Uint8Array, where: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new BodyError(400, `${where} is not valid UTF-8`);
  }
}

function parseJson(body: Buffer, maxEvents: number): ParsedEvent[] {
  const text = decode(body, 'the body');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BodyError(400, `the body is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) return [toEvent(value, {})];
  if (value.length > maxEvents) {
    throw new BodyError(413, `${value.length} events in one request; at most ${maxEvents} (broker.http.maxEventsPerRequest)`);
  }
  const events = new Array<ParsedEvent>(value.length);
  for (let i = 0; i < value.length; i++) events[i] = toEvent(value[i], { index: i });
  return events;
}

function parseNdjson(body: Buffer, maxEvents: number): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  let start = 0;
  for (let line = 1; start < body.length; line++) {
    let end = body.indexOf(0x0a, start);
    if (end === -1) end = body.length;
    let stop = end;
    if (stop > start && body[stop - 1] === 0x0d) stop--; // CRLF line ends
    const bytes = body.subarray(start, stop);
    start = end + 1;
    if (isBlank(bytes)) continue;
    if (events.length === maxEvents) {
      throw new BodyError(413, `more than ${maxEvents} events in one request (broker.http.maxEventsPerRequest)`, { line });
    }
    const text = decode(bytes, `line ${line}`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new BodyError(400, `line ${line} is not valid JSON: ${(error as Error).message}`, { line });
    }
    events.push(toEvent(value, { line }));
  }
  return events;
}

function isBlank(bytes: Uint8Array): boolean {
  for (const byte of bytes) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  return true;
}

function place(where: { line?: number; index?: number }): string {
  if (where.line !== undefined) return `line ${where.line}`;
  if (where.index !== undefined) return `event [${where.index}]`;
  return 'the event';
}

function toEvent(value: unknown, where: { line?: number; index?: number }): ParsedEvent {
  const fail = (field: string | undefined, reason: string): never => {
    throw new BodyError(400, `${place(where)}${field ? `, field ${field}` : ''}: ${reason}`, { ...where, field });
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(undefined, `expected an object { key?, headers?, payload | payloadBase64 }, got ${describe(value)}`);
  }
  const object = value as Record<string, unknown>;
  for (const field of Object.keys(object))
    if (!FIELDS.has(field)) fail(field, 'unknown field (expected id, key, headers, payload or payloadBase64)');
  const { id, key, headers, payload, payloadBase64 } = object;
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH)) {
    fail('id', `expected a non-empty string of at most ${MAX_ID_LENGTH} characters, got ${describe(id)}`);
  }
  if (key !== undefined && typeof key !== 'string') fail('key', `expected a string, got ${describe(key)}`);
  const hasPayload = 'payload' in object;
  if (hasPayload === (payloadBase64 !== undefined)) fail('payload', 'exactly one of payload and payloadBase64 is required');
  let bytes: Buffer;
  if (hasPayload) {
    bytes = Buffer.from(JSON.stringify(payload));
  } else {
    if (typeof payloadBase64 !== 'string' || payloadBase64.length % 4 !== 0 || !BASE64.test(payloadBase64)) {
      return fail('payloadBase64', `expected a base64 string, got ${describe(payloadBase64, true)}`);
    }
    bytes = Buffer.from(payloadBase64, 'base64');
  }
  return { id: id as string | undefined, key: key as string | undefined, headers: toHeaders(headers, fail), payload: bytes };
}

function toHeaders(headers: unknown, fail: (field: string, reason: string) => never): Record<string, string> {
  if (headers === undefined) return {};
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    return fail('headers', `expected an object of strings, got ${describe(headers)}`);
  }
  for (const [name, header] of Object.entries(headers)) {
    if (typeof header !== 'string') fail(`headers.${name}`, `expected a string, got ${describe(header)}`);
  }
  return headers as Record<string, string>;
}

/** A short description of a JSON value for an error message (never the value itself when long). */
function describe(value: unknown, brief = false): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return brief || value.length > 40 ? 'a string that is not one' : `"${value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
