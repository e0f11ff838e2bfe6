import type { Attributes, SpanKind, SpanStatus } from '@opentelemetry/api';

/**
 * A trace or span id: lower-case hex, or its bytes (exactly the id's, e.g. a subarray of an id
 * slab, span-ids.ts). The export thread gets Sluice's own ids as bytes, which is what OTLP's
 * protobuf carries; ids from elsewhere (a parent's, a link's) stay hex.
 */
export type SpanId = string | Uint8Array;

/**
 * One finished span as plain data: what the export thread decodes (span-codec.ts) and encodes to
 * OTLP (otlp-encoding.ts), and what tests read ({@link EventSpan.toRecord}).
 * Times are epoch milliseconds (fractional: `performance.timeOrigin + performance.now()`, the clock
 * the SDK uses too); they become unix nanoseconds only on the export thread (otlp-encoding.ts).
 */
export interface SpanRecord {
  traceId: SpanId;
  spanId: SpanId;
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
