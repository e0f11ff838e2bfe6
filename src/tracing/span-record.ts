import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import { millisToHrTime, TraceState } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';

/**
 * One finished span as plain data: what an {@link EventSpan} records while its event is in
 * Sluice, and what crosses to the export thread (export-thread.ts) by structured clone. Times are
 * epoch milliseconds (fractional: `performance.timeOrigin + performance.now()`, the clock the SDK
 * uses too); they become the OTLP exporter's HrTime only on the export thread
 * ({@link toReadableSpan}), off the event path.
 */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState?: string;
  parentSpanId?: string;
  /** The parent came from another process (an incoming `traceparent`). */
  parentRemote?: boolean;
  name: string;
  kind: SpanKind;
  start: number;
  end: number;
  attributes: Attributes;
  events: { name: string; time: number; attributes?: Attributes }[];
  links: { traceId: string; spanId: string; traceFlags: number; traceState?: string; attributes?: Attributes }[];
  status: SpanStatus;
  droppedAttributesCount: number;
  droppedEventsCount: number;
}

/** The instrumentation scope of Sluice's event spans. */
export const EVENT_SPAN_SCOPE = { name: 'sluice' } as const;

/**
 * `record` as the SDK's ReadableSpan, which the OTLP exporter serializes (and the SDK's
 * in-memory exporter keeps, in tests).
 */
export function toReadableSpan(record: SpanRecord, resource: Resource): ReadableSpan {
  const context: SpanContext = {
    traceId: record.traceId,
    spanId: record.spanId,
    traceFlags: record.traceFlags,
    traceState: record.traceState === undefined ? undefined : new TraceState(record.traceState),
  };
  const parentSpanContext: SpanContext | undefined =
    record.parentSpanId === undefined
      ? undefined
      : { traceId: record.traceId, spanId: record.parentSpanId, traceFlags: record.traceFlags, isRemote: record.parentRemote };
  const startTime = millisToHrTime(record.start);
  const endTime = millisToHrTime(record.end);
  const events: TimedEvent[] = record.events.map((event) => ({
    name: event.name,
    time: millisToHrTime(event.time),
    attributes: event.attributes,
    droppedAttributesCount: 0,
  }));
  const links: Link[] = record.links.map((link) => ({
    context: {
      traceId: link.traceId,
      spanId: link.spanId,
      traceFlags: link.traceFlags,
      traceState: link.traceState === undefined ? undefined : new TraceState(link.traceState),
    },
    attributes: link.attributes,
  }));
  return {
    name: record.name,
    kind: record.kind,
    spanContext: () => context,
    parentSpanContext,
    startTime,
    endTime,
    duration: millisToHrTime(Math.max(0, record.end - record.start)) as HrTime,
    status: record.status,
    attributes: record.attributes,
    links,
    events,
    ended: true,
    resource,
    instrumentationScope: EVENT_SPAN_SCOPE,
    droppedAttributesCount: record.droppedAttributesCount,
    droppedEventsCount: record.droppedEventsCount,
    droppedLinksCount: 0,
  };
}
