import type { Attributes, SpanKind, SpanStatus } from '@opentelemetry/api';

/**
 * One finished span as plain data ({@link EventSpan.toRecord}): what a sink of records reads, as
 * tests do. The export thread does not go through it: it writes OTLP from the binary batches
 * (span-codec.ts, otlp-span-batch.ts).
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
