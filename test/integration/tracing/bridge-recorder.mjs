// The consumer's handler in the bridge-trace test (the second Sluice, behind the bridge): records
// what arrived and what it sees of `context.span` (one JSON line per event to SPAN_RECORD_FILE:
// the event number, the `traceparent` the bridge published, the span's ids), and starts a span
// of its own with @opentelemetry/api, as a handler's instrumentation would (it must nest under
// the event's span).
import { appendFileSync } from 'node:fs';
import { trace } from '@opentelemetry/api';

export default function handler(event, context) {
  const span = context.span?.spanContext();
  const record = {
    n: JSON.parse(event.payload.toString()).n,
    traceparent: event.headers.traceparent ?? null,
    traceId: span?.traceId ?? null,
    spanId: span?.spanId ?? null,
    recording: context.span?.isRecording() ?? false,
  };
  trace.getTracer('orders-store').startSpan('store order').end();
  appendFileSync(process.env.SPAN_RECORD_FILE, `${JSON.stringify(record)}\n`);
}
