import type { Attributes, SpanKind, SpanStatus } from '@opentelemetry/api';

/**
 * One finished span as plain data: what an {@link EventSpan} records while its event is in
 * Sluice, and what crosses to the export thread (export-thread.ts, in span-codec.ts's flat form).
 * Times are epoch milliseconds (fractional: `performance.timeOrigin + performance.now()`, the clock
 * the SDK uses too); they become unix nanoseconds only on the export thread (otlp-encoding.ts).
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
