import {
  type Attributes,
  type AttributeValue,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  TraceFlags,
} from '@opentelemetry/api';
import type { SourceEvent } from '../broker/contract.ts';
import { currentSlab, hexOf, reserveIds } from './span-ids.ts';
import type { SpanRecord } from './span-record.ts';

/** Where a span goes when it ends: the export thread (export-thread.ts), or a test's exporter. */
export interface SpanSink {
  ended(span: EventSpan): void;
  /** What the sink has done so far (the export thread's counts, for bench:tracing). */
  stats?(): ExportStats;
  /** Resolves once every span ended so far is exported (bench:tracing: a round's export work is its own). */
  flush?(): Promise<void>;
}

/** Spans exported and dropped so far, and the export thread's CPU time (µs). */
export interface ExportStats {
  readonly exported: number;
  readonly dropped: number;
  readonly threadCpuMicros: number;
}

/** As the SDK's default span limits: a handler that adds without end cannot grow a span without end. */
const MAX_ATTRIBUTES = 128;
const MAX_EVENTS = 128;

/**
 * The event an event span is about, and the `messaging.system` it came through. Its attributes
 * (the `messaging.*` ones, `sluice.offset`, `sluice.attempt`: {@link originAttributes}) are read
 * from the event only when the span is exported, not built into an object when it starts.
 */
export interface SpanOrigin {
  readonly system: string;
  readonly event: SourceEvent;
}

/** A span event (`addEvent`). */
export interface SpanEventRecord {
  name: string;
  time: number;
  attributes?: Attributes;
}

/** A link (`addLink`), its context as given. */
export interface SpanLinkRecord {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string;
  attributes?: Attributes;
}

/**
 * A recording span of Sluice's own making: an event's span and its dead-letter child. It is the
 * OpenTelemetry API's `Span` (the handler's `context.span`, the active span while the handler
 * runs, so spans the handler starts through the SDK are its children), but records into plain
 * fields and, at `end`, hands itself to its sink, nothing more.
 *
 * Why not the SDK's span: at 1 % sampling the untraced 99 % of events must not pay for the traced
 * 1 %, and the SDK's span path (id generation by Math.random, attribute sanitizing, a span
 * processor chain, protobuf serialization on the same thread at each batch of 512) cost about
 * 60 µs of the event loop per traced event on this project's machine: as much again as the whole
 * core's work for the other 99 events. Serialization and export happen on a worker thread.
 *
 * What a traced event always records is kept in fields, not in objects made for it: ids as a
 * place in a slab of random bytes (span-ids.ts), the attributes read from the event at export
 * ({@link SpanOrigin}), the worker's start as a time, the handler's tries and the outcome as a
 * number and a string. Only what a handler (or a failure) adds makes an object: a traced event
 * that succeeds allocates the span and nothing else.
 */
export class EventSpan implements Span {
  /** The slab of this span's ids (span-ids.ts): the span id at {@link idAt}, an own trace id after it. */
  readonly idSlab: Uint8Array;
  readonly idAt: number;
  /** The parent (an incoming trace context, or Sluice's own span); undefined: a new trace. */
  readonly parent: SpanContext | undefined;
  readonly kind: SpanKind;
  readonly start: number;
  readonly origin: SpanOrigin | undefined;
  /** Epoch ms; 0 until it ends. */
  endedAt = 0;
  /** When a worker took the event (epoch ms), 0 before: exported as the event `handler.start`. */
  handlerStart = 0;
  /** `sluice.handler.attempts`, 0 unset. */
  handlerAttempts = 0;
  /** `sluice.outcome`, undefined unset. */
  outcome: string | undefined;
  /** Attributes set through the API: created on the first. They win over the origin's. */
  attributes: Attributes | undefined;
  events: SpanEventRecord[] | undefined;
  links: SpanLinkRecord[] | undefined;
  status: SpanStatus = OK_UNSET;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  private nameValue: string | undefined;
  private context: SpanContext | undefined;
  private ended = false;
  private attributeCount = 0;

  constructor(
    private readonly sink: SpanSink,
    /** Undefined: `<source> process`, from the origin. */
    name: string | undefined,
    kind: SpanKind,
    parent: SpanContext | undefined,
    /** Epoch ms. */
    start: number,
    origin?: SpanOrigin,
  ) {
    this.idAt = reserveIds(parent === undefined ? 24 : 8);
    this.idSlab = currentSlab();
    this.parent = parent;
    this.kind = kind;
    this.start = start;
    this.origin = origin;
    this.nameValue = name;
    // The origin's attributes and the two the tracer sets count toward the limit.
    this.attributeCount = origin === undefined ? 0 : 9;
  }

  /** The name given (the constructor's or `updateName`'s), or undefined for `<source> process`. */
  get nameOverride(): string | undefined {
    return this.nameValue;
  }

  get name(): string {
    return this.nameValue ?? `${this.origin?.event.source} process`;
  }

  /** The trace id as hex when it came from the parent; undefined when this span started the trace (its bytes follow the span id). */
  get parentTraceId(): string | undefined {
    return this.parent?.traceId;
  }

  spanContext(): SpanContext {
    this.context ??= {
      traceId: this.parent?.traceId ?? hexOf(this.idSlab, this.idAt + 8, 16),
      spanId: hexOf(this.idSlab, this.idAt, 8),
      traceFlags: TraceFlags.SAMPLED,
      traceState: this.parent?.traceState,
    };
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (this.ended || value === undefined) return this;
    this.attributes ??= {};
    const attributes = this.attributes;
    if (!(key in attributes)) {
      if (this.attributeCount >= MAX_ATTRIBUTES) {
        this.droppedAttributesCount++;
        return this;
      }
      this.attributeCount++;
    }
    attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key of Object.keys(attributes)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const isTime = attributesOrTime instanceof Date || typeof attributesOrTime === 'number' || Array.isArray(attributesOrTime);
    const attributes = isTime ? undefined : (attributesOrTime as Attributes | undefined);
    const at = isTime ? (attributesOrTime as TimeInput) : time;
    this.events ??= [];
    const events = this.events;
    if (events.length >= MAX_EVENTS) {
      this.droppedEventsCount++;
      return this;
    }
    events.push({ name, time: at === undefined ? now() : epochMs(at), attributes });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) return this;
    const { traceId, spanId, traceFlags, traceState } = link.context;
    this.links ??= [];
    this.links.push({ traceId, spanId, traceFlags, traceState: traceState?.serialize(), attributes: link.attributes });
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.ended) return this;
    // As the SDK: OK is final; an ERROR's message is kept, others carry none.
    if (this.status.code === SpanStatusCode.OK) return this;
    this.status = status.code === SpanStatusCode.ERROR ? { code: status.code, message: status.message } : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.nameValue = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    this.endedAt = endTime === undefined ? now() : epochMs(endTime);
    this.sink.ended(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes['exception.message'] = exception;
    else if (exception) {
      const type = exception.code?.toString() ?? exception.name;
      if (type) attributes['exception.type'] = type;
      if (exception.message) attributes['exception.message'] = exception.message;
      if (exception.stack) attributes['exception.stacktrace'] = exception.stack;
    }
    this.addEvent('exception', attributes, time);
  }

  /** The span as plain data, as the export thread decodes it (tests, and any sink of records). */
  toRecord(): SpanRecord {
    const context = this.spanContext();
    const events: SpanEventRecord[] = this.handlerStart > 0 ? [{ name: 'handler.start', time: this.handlerStart }] : [];
    if (this.events !== undefined) events.push(...this.events);
    return {
      traceId: context.traceId,
      spanId: context.spanId,
      traceFlags: TraceFlags.SAMPLED,
      traceState: this.parent?.traceState?.serialize() || undefined,
      parentSpanId: this.parent?.spanId,
      parentRemote: this.parent?.isRemote,
      name: this.name,
      kind: this.kind,
      start: this.start,
      end: this.endedAt,
      attributes: { ...spanAttributes(this) },
      events,
      links: [...(this.links ?? [])],
      status: this.status,
      droppedAttributesCount: this.droppedAttributesCount,
      droppedEventsCount: this.droppedEventsCount,
    };
  }
}

const OK_UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });

/** The attributes an event span starts with, read from its event. */
export function originAttributes(origin: SpanOrigin): Attributes {
  const event = origin.event;
  const position = event.position;
  return {
    'messaging.system': origin.system,
    'messaging.operation.type': 'process',
    'messaging.destination.name': event.source,
    'messaging.destination.partition.id': position.partition,
    'messaging.message.id': event.id,
    'sluice.offset': position.offset,
    'sluice.attempt': event.attempt,
  };
}

/** All of a span's attributes: the origin's, the handler's tries and outcome, then those set through the API (which win). */
export function spanAttributes(span: EventSpan): Attributes {
  const all: Attributes = span.origin === undefined ? {} : originAttributes(span.origin);
  if (span.handlerAttempts > 0) all['sluice.handler.attempts'] = span.handlerAttempts;
  if (span.outcome !== undefined) all['sluice.outcome'] = span.outcome;
  return span.attributes === undefined ? all : Object.assign(all, span.attributes);
}

/** performance.timeOrigin, read once: its getter costs about as much as a clock read. */
const ORIGIN = performance.timeOrigin;

/** Now, in epoch ms (the SDK's clock: the monotonic clock from the process's time origin). */
export function now(): number {
  return ORIGIN + performance.now();
}

/** A TimeInput as epoch ms, read as the SDK reads it: a small number is a performance.now(). */
function epochMs(time: TimeInput): number {
  if (typeof time === 'number') return time < ORIGIN ? ORIGIN + time : time;
  if (time instanceof Date) return time.getTime();
  return time[0] * 1000 + time[1] / 1e6;
}
