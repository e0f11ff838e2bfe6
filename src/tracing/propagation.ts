import type { Span } from '@opentelemetry/api';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) in event headers: reading the
 * `traceparent` an event arrived with, and writing one into headers that leave Sluice (dead
 * letters, `forward`). Plain string work with no OpenTelemetry runtime import, so adapters and the
 * dead-letter writer can use it without loading the SDK when tracing is off.
 *
 * The header names are lower case, as Kafka headers, Pub/Sub attributes, HTTP and Sluice's own
 * Kinesis envelope (adapters/kinesis/envelope.ts) all carry them.
 */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

/** A parsed `traceparent`. */
export interface TraceParent {
  readonly traceId: string;
  readonly spanId: string;
  /** The trace-flags byte; bit 0 is `sampled`. */
  readonly flags: number;
}

const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/**
 * The trace context in a `traceparent` value, or undefined when it is absent or malformed (a bad
 * header never fails an event: the event then starts a trace of its own). Version `ff` is
 * invalid; a future version is read by its first four fields, as the spec asks.
 */
export function parseTraceparent(value: string | undefined): TraceParent | undefined {
  if (value === undefined) return undefined;
  const match = TRACEPARENT_PATTERN.exec(value.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) };
}

export function isSampled(parent: TraceParent): boolean {
  return (parent.flags & 1) === 1;
}

export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${(flags & 0xff).toString(16).padStart(2, '0')}`;
}

/**
 * `headers` with `span`'s trace context written in (`traceparent`, and `tracestate` when the span
 * has one), replacing any incoming one: the destination's consumer then continues the trace as a
 * child of `span`. Returns `headers` unchanged when there is no valid span (tracing off, or an
 * unsampled event that arrived without a trace context); the incoming `traceparent`, if any, then
 * stays as it was. Never mutates `headers`.
 *
 * This is what the dead-letter writer and the `forward` handler call with the handler's
 * `context.span`.
 */
export function injectTraceContext(headers: Readonly<Record<string, string>>, span: Span | undefined): Record<string, string> {
  const context = span?.spanContext();
  if (!context || context.traceId === ZERO_TRACE || context.spanId === ZERO_SPAN) return headers as Record<string, string>;
  const out: Record<string, string> = { ...headers, [TRACEPARENT]: formatTraceparent(context.traceId, context.spanId, context.traceFlags) };
  const state = context.traceState?.serialize();
  if (state) out[TRACESTATE] = state;
  else delete out[TRACESTATE];
  return out;
}

/**
 * For a source whose transport carries one trace context for many events (an HTTP request):
 * `eventHeaders` with the transport's `traceparent` / `tracestate` added when the event has no
 * `traceparent` of its own, so the request is the parent of its events. Returns `eventHeaders`
 * itself (no copy) when there is nothing to add.
 */
export function inheritTraceContext(
  eventHeaders: Readonly<Record<string, string>>,
  traceparent: string | undefined,
  tracestate: string | undefined,
): Readonly<Record<string, string>> {
  if (traceparent === undefined || eventHeaders[TRACEPARENT] !== undefined) return eventHeaders;
  const out: Record<string, string> = { ...eventHeaders, [TRACEPARENT]: traceparent };
  if (tracestate !== undefined) out[TRACESTATE] = tracestate;
  return out;
}
