import type { Attributes } from '@opentelemetry/api';
import { attributes, encodeRequest, flags, keyField, type Writer } from './otlp-encoding.ts';
import { type EncodedSpans, HAS_PARENT, HAS_SIDE, PARENT_REMOTE, type Side } from './span-codec.ts';

/**
 * One OTLP export request (protobuf) of the spans in `batches`, written straight from their binary
 * form (span-codec.ts has the layout) on the export thread: ids and strings are copied as the
 * bytes they already are, never turned into JavaScript strings and back, which was half of the
 * export thread's work per span. The spans' attributes come out in the order of
 * `spanAttributes` (event-span.ts): the origin's, the handler's tries, the outcome, then those set
 * through the API, as the SDK's serializer writes a span recorded that way (a unit test compares).
 */
export function encodeSpanBatches(batches: readonly EncodedSpans[], resource: Attributes): Uint8Array {
  const count = batches.reduce((sum, batch) => sum + batch.count, 0);
  return encodeRequest(resource, count * 512 + 256, (w) => {
    for (const batch of batches) writeBatch(w, batch);
  });
}

const TEXT = new TextDecoder();
const OPERATION = keyValue('messaging.operation.type', 'process');
const PROCESS_SUFFIX = Buffer.from(' process');

function writeBatch(w: Writer, batch: EncodedSpans): void {
  const bytes = new Uint8Array(batch.buffer, 0, batch.length);
  const view = new DataView(batch.buffer, 0, batch.length);
  let p = 0;
  /** The next string's bytes: [start, length]; `p` moves past it. */
  let at = 0;
  let length = 0;
  const next = () => {
    length = view.getUint16(p, true);
    at = p + 2;
    p = at + length;
  };
  for (let n = 0; n < batch.count; n++) {
    const spanFlags = bytes[p]!;
    const kind = bytes[p + 1]!;
    const code = bytes[p + 2]!;
    const spanAt = p + 3;
    const traceAt = p + 11;
    p += 27;
    const parentAt = spanFlags & HAS_PARENT ? p : -1;
    if (parentAt >= 0) p += 8;
    const start = view.getFloat64(p, true);
    const end = view.getFloat64(p + 8, true);
    const handlerStart = view.getFloat64(p + 16, true);
    const handlerAttempts = view.getUint32(p + 24, true);
    const attempt = view.getUint32(p + 28, true);
    p += 32;
    next();
    const nameAt = at;
    const nameLength = length;
    next();
    const systemAt = at;
    const systemLength = length;
    // source, partition, message id, offset: [at, length] pairs, when there is an origin.
    const origin: number[] = [];
    if (systemLength > 0)
      for (let i = 0; i < 4; i++) {
        next();
        origin.push(at, length);
      }
    next();
    const outcomeAt = at;
    const outcomeLength = length;
    let side: Side | undefined;
    if (spanFlags & HAS_SIDE) {
      side = batch.side[view.getUint32(p, true)];
      p += 4;
    }

    w.begin(2); // ScopeSpans.spans
    w.bytes(1, bytes, traceAt, 16);
    w.bytes(2, bytes, spanAt, 8);
    if (side?.traceState) w.string(3, side.traceState);
    if (parentAt >= 0) w.bytes(4, bytes, parentAt, 8);
    if (nameLength > 0) w.bytes(5, bytes, nameAt, nameLength);
    else {
      // `<source> process`
      const sourceLength = origin[1] ?? 0;
      w.tag(5, 2);
      w.varint(sourceLength + PROCESS_SUFFIX.length);
      w.copy(bytes, origin[0] ?? 0, sourceLength);
      w.raw(PROCESS_SUFFIX);
    }
    w.tag(6, 0);
    w.varint(kind + 1); // the API's SpanKind is the proto's minus one (no UNSPECIFIED)
    w.nanos(7, start);
    w.nanos(8, end);
    if (side?.attributes !== undefined) {
      // Set through the API: merged as the SDK would see them (they win, in their place).
      attributes(
        w,
        9,
        mergedAttributes(bytes, systemAt, systemLength, origin, attempt, handlerAttempts, outcomeAt, outcomeLength, side.attributes),
      );
    } else {
      if (systemLength > 0) {
        stringKeyValue(w, K_SYSTEM, bytes, systemAt, systemLength);
        w.tag(9, 2);
        w.varint(OPERATION.length);
        w.raw(OPERATION);
        stringKeyValue(w, K_DESTINATION, bytes, origin[0]!, origin[1]!);
        stringKeyValue(w, K_PARTITION, bytes, origin[2]!, origin[3]!);
        stringKeyValue(w, K_MESSAGE_ID, bytes, origin[4]!, origin[5]!);
        stringKeyValue(w, K_OFFSET, bytes, origin[6]!, origin[7]!);
        intKeyValue(w, K_ATTEMPT, attempt);
      }
      if (handlerAttempts > 0) intKeyValue(w, K_HANDLER_ATTEMPTS, handlerAttempts);
      if (outcomeLength > 0) stringKeyValue(w, K_OUTCOME, bytes, outcomeAt, outcomeLength);
    }
    if (side !== undefined && side.droppedAttributesCount > 0) {
      w.tag(10, 0);
      w.varint(side.droppedAttributesCount);
    }
    if (handlerStart > 0) {
      w.begin(11);
      w.nanos(1, handlerStart);
      w.string(2, 'handler.start');
      w.end();
    }
    for (const event of side?.events ?? []) {
      w.begin(11);
      w.nanos(1, event.time);
      w.string(2, event.name);
      attributes(w, 3, event.attributes);
      w.end();
    }
    if (side !== undefined && side.droppedEventsCount > 0) {
      w.tag(12, 0);
      w.varint(side.droppedEventsCount);
    }
    for (const link of side?.links ?? []) {
      w.begin(13);
      w.hex(1, link.traceId);
      w.hex(2, link.spanId);
      if (link.traceState) w.string(3, link.traceState);
      attributes(w, 4, link.attributes);
      w.fixed32(6, flags(link.traceFlags, undefined));
      w.end();
    }
    w.begin(15);
    if (side?.statusMessage) w.string(2, side.statusMessage);
    if (code !== 0) {
      w.tag(3, 0);
      w.varint(code);
    }
    w.end();
    w.fixed32(16, flags(1, parentAt < 0 ? undefined : (spanFlags & PARENT_REMOTE) !== 0));
    w.end();
  }
}

/** The key fields of the attributes every event span has, encoded once. */
const K_SYSTEM = keyField('messaging.system');
const K_DESTINATION = keyField('messaging.destination.name');
const K_PARTITION = keyField('messaging.destination.partition.id');
const K_MESSAGE_ID = keyField('messaging.message.id');
const K_OFFSET = keyField('sluice.offset');
const K_ATTEMPT = keyField('sluice.attempt');
const K_HANDLER_ATTEMPTS = keyField('sluice.handler.attempts');
const K_OUTCOME = keyField('sluice.outcome');

/** Span.attributes (field 9, length-delimited). */
const ATTRIBUTE_TAG = (9 << 3) | 2;

/**
 * A KeyValue (attributes field 9) whose value is `length` UTF-8 bytes of `source` at `at`. The
 * usual KeyValue is under 128 bytes, so its lengths are known before it is written and each is
 * one byte: written in one pass, without the writer's begin/end (four calls and a length fix-up
 * each), which were most of the export thread's encoding time per span.
 */
function stringKeyValue(w: Writer, key: Uint8Array, source: Uint8Array, at: number, length: number): void {
  const any = 2 + length; // AnyValue { string_value (1) }
  const body = key.length + 2 + any; // KeyValue { key (1), value (2) }
  if (length >= 0x80 || body >= 0x80) {
    w.begin(9);
    w.raw(key);
    w.begin(2);
    w.bytes(1, source, at, length);
    w.end();
    w.end();
    return;
  }
  w.room(2 + body);
  const b = w.buffer;
  let p = w.pos;
  b[p++] = ATTRIBUTE_TAG;
  b[p++] = body;
  for (let i = 0; i < key.length; i++) b[p++] = key[i]!;
  b[p++] = 0x12; // value (2), length-delimited
  b[p++] = any;
  b[p++] = 0x0a; // string_value (1), length-delimited
  b[p++] = length;
  for (let i = at; i < at + length; i++) b[p++] = source[i]!;
  w.pos = p;
}

/** A KeyValue whose value is a non-negative integer (an attempt count). */
function intKeyValue(w: Writer, key: Uint8Array, value: number): void {
  if (value >= 0x80 || key.length + 4 >= 0x80) {
    w.begin(9);
    w.raw(key);
    w.begin(2);
    w.tag(3, 0);
    w.varint(value);
    w.end();
    w.end();
    return;
  }
  w.room(6 + key.length);
  const b = w.buffer;
  let p = w.pos;
  b[p++] = ATTRIBUTE_TAG;
  b[p++] = key.length + 4;
  for (let i = 0; i < key.length; i++) b[p++] = key[i]!;
  b[p++] = 0x12; // value (2)
  b[p++] = 2;
  b[p++] = 0x18; // int_value (3), varint
  b[p++] = value;
  w.pos = p;
}

/** A constant KeyValue's body (key and string value), encoded once. */
function keyValue(key: string, value: string): Uint8Array {
  const bytes = Buffer.from(value);
  const body = [...keyField(key), 0x12, bytes.length + 2, 0x0a, bytes.length, ...bytes];
  return Uint8Array.from(body);
}

/** The rare span a handler set attributes on: all of them as one object, in `spanAttributes`' order. */
function mergedAttributes(
  bytes: Uint8Array,
  systemAt: number,
  systemLength: number,
  origin: readonly number[],
  attempt: number,
  handlerAttempts: number,
  outcomeAt: number,
  outcomeLength: number,
  set: Attributes,
): Attributes {
  const text = (at: number, length: number) => TEXT.decode(bytes.subarray(at, at + length));
  const all: Attributes = {};
  if (systemLength > 0) {
    all['messaging.system'] = text(systemAt, systemLength);
    all['messaging.operation.type'] = 'process';
    all['messaging.destination.name'] = text(origin[0]!, origin[1]!);
    all['messaging.destination.partition.id'] = text(origin[2]!, origin[3]!);
    all['messaging.message.id'] = text(origin[4]!, origin[5]!);
    all['sluice.offset'] = text(origin[6]!, origin[7]!);
    all['sluice.attempt'] = attempt;
  }
  if (handlerAttempts > 0) all['sluice.handler.attempts'] = handlerAttempts;
  if (outcomeLength > 0) all['sluice.outcome'] = text(outcomeAt, outcomeLength);
  return Object.assign(all, set);
}
