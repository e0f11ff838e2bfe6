import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { hexInto } from './span-ids.ts';

/**
 * The protobuf writing under Sluice's OTLP export (opentelemetry-proto collector/trace/v1 and
 * trace/v1): a writer, attributes, and the request's envelope. The spans themselves are written
 * straight from the binary batches the event loop sends (otlp-span-batch.ts) on the export
 * thread. The HTTP transport, retries, timeouts and headers stay the SDK's: export-thread-main.ts
 * hands this to the SDK's OTLP/HTTP export delegate as its serializer.
 *
 * Why not the SDK's serializer: it builds ReadableSpans and encodes every string to UTF-8 twice in
 * JavaScript (once to size it, once to write it), about 10 µs a span on this project's VM at a
 * steady 10,000 spans/s, most of the export thread's work; on a 2-core machine that thread's CPU
 * is taken from the event loop's. Here short ASCII strings are written byte by byte in one pass,
 * others with Buffer's native UTF-8, the attribute keys once per process, and the strings of a
 * batch not at all (already UTF-8). A unit test decodes both encodings and compares them.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/. A length-delimited field gets
 * one byte for its length before its body is written; when the body needs more, it is moved.
 */
export class Writer {
  buffer: Buffer;
  pos = 0;
  private readonly open: number[] = [];

  constructor(size = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  room(bytes: number): void {
    if (this.pos + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.pos + bytes));
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
  }

  /** A varint of a non-negative integer up to 2^53 (no 32-bit operators: they wrap above 2^31). */
  varint(value: number): void {
    this.room(10);
    const b = this.buffer;
    let v = value;
    while (v >= 0x80) {
      b[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.pos++] = v;
  }

  /** A field's tag: one byte below field 16, a varint from there (Span.flags is 16). */
  tag(field: number, wireType: number): void {
    if (field >= 16) {
      this.varint(field * 8 + wireType);
      return;
    }
    this.room(1);
    this.buffer[this.pos++] = (field << 3) | wireType;
  }

  string(field: number, value: string): void {
    this.tag(field, 2);
    const length = value.length;
    if (length < 128) {
      // Optimistic: ASCII is one byte a character; a non-ASCII character rewinds to the native path.
      this.room(length + 1);
      const b = this.buffer;
      const start = this.pos;
      b[start] = length;
      let p = start + 1;
      for (let i = 0; i < length; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) {
          this.pos = start;
          this.utf8(value);
          return;
        }
        b[p++] = code;
      }
      this.pos = p;
      return;
    }
    this.utf8(value);
  }

  private utf8(value: string): void {
    const length = Buffer.byteLength(value);
    this.varint(length);
    this.room(length);
    this.pos += this.buffer.write(value, this.pos, 'utf8');
  }

  /** A trace or span id given as hex (a link's), as its bytes. */
  hex(field: number, value: string): void {
    this.tag(field, 2);
    const length = value.length >>> 1;
    this.room(length + 1);
    this.buffer[this.pos++] = length;
    hexInto(this.buffer, this.pos, value);
    this.pos += length;
  }

  raw(bytes: Uint8Array): void {
    const length = bytes.length;
    this.room(length);
    if (length > 64) this.buffer.set(bytes, this.pos);
    else {
      // A key or a short constant: a loop beats TypedArray#set's native call by far at this size.
      const b = this.buffer;
      const at = this.pos;
      for (let i = 0; i < length; i++) b[at + i] = bytes[i]!;
    }
    this.pos += length;
  }

  /** A length-delimited field of `length` bytes of `source` from `from` (a batch's UTF-8 or id bytes). */
  bytes(field: number, source: Uint8Array, from: number, length: number): void {
    this.tag(field, 2);
    this.varint(length);
    this.copy(source, from, length);
  }

  /** `length` bytes of `source` from `from`, as they are. */
  copy(source: Uint8Array, from: number, length: number): void {
    this.room(length);
    const b = this.buffer;
    let p = this.pos;
    for (let i = from; i < from + length; i++) b[p++] = source[i]!;
    this.pos = p;
  }

  /** fixed64 of epoch ms (fractional) as unix nanoseconds, exact (above 2^53, so in two halves). */
  nanos(field: number, ms: number): void {
    this.tag(field, 1);
    this.room(8);
    const whole = Math.floor(ms);
    const sub = Math.round((ms - whole) * 1_000_000);
    // whole = high·2^32 + low; nanos = high·10^6·2^32 + (low·10^6 + sub), each part exact.
    const low = (whole % 0x1_0000_0000) * 1_000_000 + sub;
    const high = Math.floor(whole / 0x1_0000_0000) * 1_000_000 + Math.floor(low / 0x1_0000_0000);
    // Byte by byte: Buffer#writeUInt32LE checks its arguments on each call, a tenth of a span's encoding.
    const b = this.buffer;
    const p = this.pos;
    const l = low % 0x1_0000_0000;
    b[p] = l & 0xff;
    b[p + 1] = (l >>> 8) & 0xff;
    b[p + 2] = (l >>> 16) & 0xff;
    b[p + 3] = l >>> 24;
    b[p + 4] = high & 0xff;
    b[p + 5] = (high >>> 8) & 0xff;
    b[p + 6] = (high >>> 16) & 0xff;
    b[p + 7] = high >>> 24;
    this.pos = p + 8;
  }

  double(field: number, value: number): void {
    this.tag(field, 1);
    this.room(8);
    this.buffer.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  fixed32(field: number, value: number): void {
    this.tag(field, 5);
    this.room(4);
    this.buffer.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  /** Starts a length-delimited field; {@link end} writes its length. */
  begin(field: number): void {
    this.tag(field, 2);
    this.room(1);
    this.open.push(this.pos);
    this.pos++;
  }

  end(): void {
    const at = this.open.pop()!;
    const length = this.pos - at - 1;
    if (length < 0x80) {
      this.buffer[at] = length;
      return;
    }
    let bytes = 1;
    for (let v = length; v >= 0x80; v = Math.floor(v / 0x80)) bytes++;
    this.room(bytes - 1);
    this.buffer.copyWithin(at + bytes, at + 1, this.pos);
    this.pos += bytes - 1;
    let v = length;
    let p = at;
    while (v >= 0x80) {
      this.buffer[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buffer[p] = v;
  }

  /** What was written: a view of the writer's buffer (no copy), which the writer no longer writes to. */
  finish(): Uint8Array {
    const written = this.buffer.subarray(0, this.pos);
    this.buffer = Buffer.alloc(0);
    this.pos = 0;
    return written;
  }
}

/** A KeyValue's key field, encoded once per key (bounded: a handler's keys are few in practice). */
const keyBytes = new Map<string, Uint8Array>();
export function keyField(key: string): Uint8Array {
  let bytes = keyBytes.get(key);
  if (bytes === undefined) {
    const writer = new Writer(16);
    writer.string(1, key);
    bytes = writer.finish();
    if (keyBytes.size < 4096) keyBytes.set(key, bytes);
  }
  return bytes;
}

function negativeVarint(value: number): Uint8Array {
  const bytes: number[] = [];
  let v = BigInt.asUintN(64, BigInt(value));
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return Uint8Array.from(bytes);
}

function anyValue(w: Writer, value: AttributeValue | null | undefined): void {
  if (typeof value === 'string') w.string(1, value);
  else if (typeof value === 'boolean') {
    w.tag(2, 0);
    w.varint(value ? 1 : 0);
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) w.double(4, value);
    else if (value >= 0) {
      w.tag(3, 0);
      w.varint(value);
    } else {
      w.tag(3, 0);
      w.raw(negativeVarint(value)); // int64: the 64-bit two's complement, ten bytes
    }
  } else if (Array.isArray(value)) {
    w.begin(5);
    for (const item of value) {
      w.begin(1);
      anyValue(w, item);
      w.end();
    }
    w.end();
  }
}

export function attributes(w: Writer, field: number, values: Attributes | undefined): void {
  if (values === undefined) return;
  for (const key in values) {
    const value = values[key];
    if (value === undefined) continue;
    w.begin(field);
    w.raw(keyField(key));
    w.begin(2);
    anyValue(w, value);
    w.end();
    w.end();
  }
}

/** The span flags field: the W3C flags, and whether the parent is remote (OTLP 1.4+). */
export function flags(traceFlags: number, remote: boolean | undefined): number {
  return (traceFlags & 0xff) | 0x100 | (remote ? 0x200 : 0);
}

/** One request: the resource (e.g. `service.name`), the scope `sluice`, and the spans `spans` writes (each a ScopeSpans.spans field). */
export function encodeRequest(resource: Attributes, sizeHint: number, spans: (w: Writer) => void): Uint8Array {
  const w = new Writer(sizeHint);
  w.begin(1); // ExportTraceServiceRequest.resource_spans
  w.begin(1); // ResourceSpans.resource
  attributes(w, 1, resource);
  w.end();
  w.begin(2); // ResourceSpans.scope_spans
  w.begin(1); // ScopeSpans.scope
  w.string(1, 'sluice');
  w.end();
  spans(w);
  w.end();
  w.end();
  return w.finish();
}
