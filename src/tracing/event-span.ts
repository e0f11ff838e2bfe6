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
import { newSpanId, newTraceId } from './span-ids.ts';
import type { SpanRecord } from './span-record.ts';

/** Where a span goes when it ends: the export thread (export-thread.ts), or a test's exporter. */
export interface SpanSink {
  ended(record: SpanRecord): void;
}

/** As the SDK's default span limits: a handler that adds without end cannot grow a span without end. */
const MAX_ATTRIBUTES = 128;
const MAX_EVENTS = 128;

/**
 * A recording span of Sluice's own making: an event's span and its dead-letter child. It is the
 * OpenTelemetry API's `Span` (the handler's `context.span`, the active span while the handler
 * runs, so spans the handler starts through the SDK are its children), but records into one
 * plain {@link SpanRecord} and, at `end`, hands that to its sink, nothing more.
 *
 * Why not the SDK's span: at 1 % sampling the untraced 99 % of events must not pay for the traced
 * 1 %, and the SDK's span path (id generation by Math.random, attribute sanitizing, a span
 * processor chain, protobuf serialization on the same thread at each batch of 512) cost about
 * 60 µs of the event loop per traced event on this project's machine: as much again as the whole
 * core's work for the other 99 events. This span costs a few µs (bench:tracing); serialization
 * and export happen on a worker thread.
 */
export class EventSpan implements Span {
  readonly record: SpanRecord;
  private readonly context: SpanContext;
  private ended = false;
  private attributeCount: number;

  constructor(
    private readonly sink: SpanSink,
    name: string,
    kind: SpanKind,
    /** The parent (an incoming trace context, or Sluice's own span); undefined: a new trace. */
    parent: SpanContext | undefined,
    /** Epoch ms. */
    start: number,
    attributes: Attributes,
  ) {
    const traceId = parent === undefined ? newTraceId() : parent.traceId;
    const traceState = parent?.traceState?.serialize() || undefined;
    this.context = { traceId, spanId: newSpanId(), traceFlags: TraceFlags.SAMPLED, traceState: parent?.traceState };
    this.record = {
      traceId,
      spanId: this.context.spanId,
      traceFlags: TraceFlags.SAMPLED,
      traceState,
      parentSpanId: parent?.spanId,
      parentRemote: parent?.isRemote,
      name,
      kind,
      start,
      end: start,
      attributes,
      events: [],
      links: [],
      status: { code: SpanStatusCode.UNSET },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
    };
    this.attributeCount = Object.keys(attributes).length;
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (this.ended || value === undefined) return this;
    const attributes = this.record.attributes;
    if (!(key in attributes)) {
      if (this.attributeCount >= MAX_ATTRIBUTES) {
        this.record.droppedAttributesCount++;
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
    if (this.record.events.length >= MAX_EVENTS) {
      this.record.droppedEventsCount++;
      return this;
    }
    this.record.events.push({ name, time: at === undefined ? now() : epochMs(at), attributes });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) return this;
    const { traceId, spanId, traceFlags, traceState } = link.context;
    this.record.links.push({ traceId, spanId, traceFlags, traceState: traceState?.serialize(), attributes: link.attributes });
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.ended) return this;
    // As the SDK: OK is final; an ERROR's message is kept, others carry none.
    if (this.record.status.code === SpanStatusCode.OK) return this;
    this.record.status = status.code === SpanStatusCode.ERROR ? { code: status.code, message: status.message } : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.record.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    this.record.end = endTime === undefined ? now() : epochMs(endTime);
    this.sink.ended(this.record);
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
