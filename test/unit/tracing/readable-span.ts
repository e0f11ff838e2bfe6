// Test support: a span record as the SDK's ReadableSpan, so tests can hand Sluice's spans to the
// SDK's in-memory exporter and serializer (the export thread encodes records itself).
import type { HrTime, Link, SpanContext } from '@opentelemetry/api';
import { millisToHrTime, TraceState } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { SpanRecord } from '../../../src/tracing/span-record.ts';

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
