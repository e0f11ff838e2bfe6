import type { Attributes, AttributeValue, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { SpanRecord } from './span-record.ts';

/**
 * How span records cross to the export thread: one flat array of primitives per batch, not an
 * array of record objects. Structured clone pays per object and per property name: a record
 * (with its attributes, events and status objects) cost about 2–3 µs to post on this project's VM,
 * the flat form about 0.5 µs. Attribute keys and event names Sluice itself writes are sent as
 * their index in {@link KNOWN}; any other (a handler's own) as the string.
 *
 * Layout of one span: traceId, spanId, parentSpanId ('' for none), traceState ('' for none),
 * parentRemote (0/1), traceFlags, name, kind, start, end, status code, status message ('' for
 * none), dropped attributes, dropped events, then the attributes (count, then key, value pairs),
 * the events (count, then name, time, attributes as above or -1 for none) and the links (count,
 * then traceId, spanId, traceFlags, traceState, attributes or -1).
 */
const KNOWN = [
  'messaging.system',
  'messaging.operation.type',
  'messaging.destination.name',
  'messaging.destination.partition.id',
  'messaging.message.id',
  'sluice.offset',
  'sluice.attempt',
  'sluice.handler.attempts',
  'sluice.outcome',
  'handler.start',
  'exception',
  'exception.type',
  'exception.message',
  'exception.stacktrace',
  'nack',
  'discarded',
] as const;
const INDEX = new Map<string, number>(KNOWN.map((name, index) => [name, index]));

type Flat = (string | number | boolean | AttributeValue | null)[];

const name = (value: string): string | number => INDEX.get(value) ?? value;
const unname = (value: unknown): string => (typeof value === 'number' ? KNOWN[value]! : (value as string));

function encodeAttributes(out: Flat, attributes: Attributes | undefined): void {
  if (attributes === undefined) {
    out.push(-1);
    return;
  }
  const at = out.length;
  out.push(0);
  let count = 0;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    out.push(name(key), value);
    count++;
  }
  out[at] = count;
}

/** Appends `record` to `out`. */
export function encodeSpan(out: Flat, record: SpanRecord): void {
  out.push(
    record.traceId,
    record.spanId,
    record.parentSpanId ?? '',
    record.traceState ?? '',
    record.parentRemote ? 1 : 0,
    record.traceFlags,
    record.name,
    record.kind,
    record.start,
    record.end,
    record.status.code,
    record.status.message ?? '',
    record.droppedAttributesCount,
    record.droppedEventsCount,
  );
  encodeAttributes(out, record.attributes);
  out.push(record.events.length);
  for (const event of record.events) {
    out.push(name(event.name), event.time);
    encodeAttributes(out, event.attributes);
  }
  out.push(record.links.length);
  for (const link of record.links) {
    out.push(link.traceId, link.spanId, link.traceFlags, link.traceState ?? '');
    encodeAttributes(out, link.attributes);
  }
}

/** The records `encodeSpan` appended to `flat`, in order. */
export function decodeSpans(flat: readonly unknown[]): SpanRecord[] {
  const records: SpanRecord[] = [];
  let i = 0;
  const next = () => flat[i++];
  const attributes = (): Attributes | undefined => {
    const count = next() as number;
    if (count < 0) return undefined;
    const out: Attributes = {};
    for (let n = 0; n < count; n++) {
      const key = unname(next());
      out[key] = next() as AttributeValue;
    }
    return out;
  };
  while (i < flat.length) {
    const traceId = next() as string;
    const spanId = next() as string;
    const parentSpanId = (next() as string) || undefined;
    const traceState = (next() as string) || undefined;
    const parentRemote = next() === 1 ? true : undefined;
    const traceFlags = next() as number;
    const spanName = next() as string;
    const kind = next() as SpanKind;
    const start = next() as number;
    const end = next() as number;
    const code = next() as SpanStatusCode;
    const message = (next() as string) || undefined;
    const droppedAttributesCount = next() as number;
    const droppedEventsCount = next() as number;
    const spanAttributes = attributes() ?? {};
    const events: SpanRecord['events'] = [];
    for (let n = next() as number; n > 0; n--) {
      const eventName = unname(next());
      const time = next() as number;
      events.push({ name: eventName, time, attributes: attributes() });
    }
    const links: SpanRecord['links'] = [];
    for (let n = next() as number; n > 0; n--) {
      const link = { traceId: next() as string, spanId: next() as string, traceFlags: next() as number };
      const state = (next() as string) || undefined;
      links.push({ ...link, traceState: state, attributes: attributes() });
    }
    records.push({
      traceId,
      spanId,
      traceFlags,
      traceState,
      parentSpanId,
      parentRemote,
      name: spanName,
      kind,
      start,
      end,
      attributes: spanAttributes,
      events,
      links,
      status: message === undefined ? { code } : { code, message },
      droppedAttributesCount,
      droppedEventsCount,
    });
  }
  return records;
}
