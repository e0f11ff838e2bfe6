// A handler for the tracing test: records what it sees of `context.span` (one JSON line per
// event to SPAN_RECORD_FILE), starts a span of its own with @opentelemetry/api (it must nest
// under the handler span), and refuses payloads equal to "fail" (not retriable: dead-lettered).
import { appendFileSync } from 'node:fs';
import { trace } from '@opentelemetry/api';

export default function handler(event, context) {
  const span = context.span;
  const record = span
    ? { id: event.id, traceId: span.spanContext().traceId, spanId: span.spanContext().spanId, recording: span.isRecording() }
    : { id: event.id, span: null };
  appendFileSync(process.env.SPAN_RECORD_FILE, `${JSON.stringify(record)}\n`);
  trace.getTracer('span-recorder').startSpan('handler work').end();
  if (event.payload.toString() === '"fail"') throw Object.assign(new Error('refused by the test handler'), { retriable: false });
}
