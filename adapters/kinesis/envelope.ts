/**
 * Kinesis records carry a partition key and data, no headers. So that headers survive a trip
 * through a stream (dead letters carry the error in them; bridging keeps Kafka headers), an
 * event with headers is written as a JSON envelope:
 *
 *   {"sluiceEnvelope":1,"headers":{"k":"v"},"payload":"<base64>"}
 *
 * and the source unwraps records that start with exactly `{"sluiceEnvelope":1,`. Events without
 * headers are written as their bare payload, so ordinary data is never wrapped. With
 * `publish.headers: drop` headers are not written at all.
 */
const PREFIX = Buffer.from('{"sluiceEnvelope":1,');

export interface Unwrapped {
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: Buffer;
}

export function wrapEnvelope(payload: Buffer, headers: Readonly<Record<string, string>>): Buffer {
  return Buffer.from(JSON.stringify({ sluiceEnvelope: 1, headers, payload: payload.toString('base64') }));
}

export function isEnvelope(data: Uint8Array): boolean {
  if (data.length < PREFIX.length || data[0] !== 0x7b || data[1] !== 0x22 || data[2] !== 0x73) return false;
  for (let i = 3; i < PREFIX.length; i++) if (data[i] !== PREFIX[i]) return false;
  return true;
}

/** The envelope's headers and payload, or undefined if `data` is not a well-formed envelope. */
export function unwrapEnvelope(data: Buffer): Unwrapped | undefined {
  if (!isEnvelope(data)) return undefined;
  try {
    const parsed = JSON.parse(data.toString('utf8')) as { headers?: unknown; payload?: unknown };
    if (typeof parsed.payload !== 'string' || !parsed.headers || typeof parsed.headers !== 'object') return undefined;
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(parsed.headers)) if (typeof value === 'string') headers[key] = value;
    return { headers, payload: Buffer.from(parsed.payload, 'base64') };
  } catch {
    return undefined;
  }
}
