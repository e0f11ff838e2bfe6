import type { Attributes } from '@opentelemetry/api';
import type { EventSpan, SpanEventRecord, SpanLinkRecord } from './event-span.ts';
import { hexInto } from './span-ids.ts';

/**
 * How spans cross to the export thread: written into one binary buffer per batch, which the
 * message transfers (no copy), with whatever a handler added to a span (its own attributes,
 * events, links) in a small array beside it, which the message clones. The export thread writes
 * OTLP protobuf straight from it (otlp-span-batch.ts): the strings are already UTF-8 there.
 *
 * Why binary: structured clone pays per value. A span as a flat array of ~45 values cost about
 * 1.5 µs of the event loop to post on this project's VM, three times the span's whole recording;
 * written here it costs a few hundred ns (numbers as they are, ids as bytes, short ASCII strings
 * byte by byte), and the transfer is free.
 *
 * One span: flags (u8: 1 own trace, 2 has parent, 4 parent remote, 8 has side), kind (u8),
 * status code (u8), span id (8 bytes), trace id (16), parent span id (8, if any), start, end and
 * the handler's start (f64, epoch ms; 0: none), the handler's attempts (u32; 0: unset), the
 * attempt (u32), then strings (u16 byte length + UTF-8): name ('' for `<source> process`),
 * messaging.system ('' for no origin: the next four are then absent), source, partition, message
 * id, offset, outcome ('' unset); with flag 8, the index of its side entry (u32).
 */
export const OWN_TRACE = 1;
export const HAS_PARENT = 2;
export const PARENT_REMOTE = 4;
export const HAS_SIDE = 8;

/** What the binary form does not carry: rare, and a handler's own, so cloned as objects. */
export interface Side {
  attributes?: Attributes;
  events?: SpanEventRecord[];
  links?: SpanLinkRecord[];
  statusMessage?: string;
  traceState?: string;
  droppedAttributesCount: number;
  droppedEventsCount: number;
}

/** One batch as it crosses: `buffer` (transferred) holds `count` spans in its first `length` bytes. */
export interface EncodedSpans {
  buffer: ArrayBuffer;
  length: number;
  count: number;
  side: Side[];
}

/** Writes spans into a batch (the event loop's side). */
export class SpanBatchWriter {
  count = 0;
  private bytes = new Uint8Array(32 * 1024);
  private view = new DataView(this.bytes.buffer);
  private pos = 0;
  private side: Side[] = [];

  write(span: EventSpan): void {
    this.room(512);
    const parent = span.parent;
    const side = sideOf(span);
    const bytes = this.bytes;
    let flags = 0;
    if (parent === undefined) flags |= OWN_TRACE;
    else flags |= HAS_PARENT | (parent.isRemote ? PARENT_REMOTE : 0);
    if (side !== undefined) flags |= HAS_SIDE;
    let p = this.pos;
    bytes[p++] = flags;
    bytes[p++] = span.kind;
    bytes[p++] = span.status.code;
    const slab = span.idSlab;
    const at = span.idAt;
    for (let i = 0; i < 8; i++) bytes[p + i] = slab[at + i]!;
    p += 8;
    if (parent === undefined) for (let i = 0; i < 16; i++) bytes[p + i] = slab[at + 8 + i]!;
    else hexInto(bytes, p, parent.traceId);
    p += 16;
    if (parent !== undefined) {
      hexInto(bytes, p, parent.spanId);
      p += 8;
    }
    const view = this.view;
    view.setFloat64(p, span.start, true);
    view.setFloat64(p + 8, span.endedAt, true);
    view.setFloat64(p + 16, span.handlerStart, true);
    view.setUint32(p + 24, span.handlerAttempts, true);
    this.pos = p + 32; // the attempt's u32 at p + 28, below
    const origin = span.origin;
    view.setUint32(p + 28, origin === undefined ? 0 : origin.event.attempt, true);
    this.string(span.nameOverride ?? '');
    if (origin === undefined) this.string('');
    else {
      const event = origin.event;
      const position = event.position;
      this.string(origin.system);
      this.string(event.source);
      this.string(position.partition);
      this.string(event.id);
      this.string(position.offset);
    }
    this.string(span.outcome ?? '');
    if (side !== undefined) {
      this.room(4);
      view.setUint32(this.pos, this.side.length, true);
      this.pos += 4;
      this.side.push(side);
    }
    this.count++;
  }

  /** The batch written so far, to post with its buffer in the transfer list; the writer starts a new one. */
  take(): EncodedSpans {
    const taken = { buffer: this.bytes.buffer as ArrayBuffer, length: this.pos, count: this.count, side: this.side };
    this.bytes = new Uint8Array(32 * 1024);
    this.view = new DataView(this.bytes.buffer);
    this.pos = 0;
    this.count = 0;
    this.side = [];
    return taken;
  }

  private room(bytes: number): void {
    if (this.pos + bytes <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + bytes));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  /** u16 byte length, then UTF-8: short ASCII byte by byte, anything else by the native encoder. */
  private string(value: string): void {
    const length = value.length;
    this.room(2 + length * 3);
    const bytes = this.bytes;
    const start = this.pos + 2;
    let p = start;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        p = start + ENCODER.encodeInto(value, bytes.subarray(start)).written;
        break;
      }
      bytes[p++] = code;
    }
    // A longer string is cut at 65,535 bytes (a span attribute Sluice writes is an id or a name).
    const written = Math.min(p - start, 0xffff);
    this.view.setUint16(this.pos, written, true);
    this.pos = start + written;
  }
}

const ENCODER = new TextEncoder();

/** What a span carries beyond the binary form, or undefined (the usual case: nothing). */
function sideOf(span: EventSpan): Side | undefined {
  const traceState = span.parent?.traceState?.serialize() || undefined;
  const message = span.status.message || undefined;
  if (
    span.attributes === undefined &&
    span.events === undefined &&
    span.links === undefined &&
    traceState === undefined &&
    message === undefined &&
    span.droppedAttributesCount === 0 &&
    span.droppedEventsCount === 0
  )
    return undefined;
  return {
    attributes: span.attributes,
    events: span.events,
    links: span.links,
    statusMessage: message,
    traceState,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
  };
}
