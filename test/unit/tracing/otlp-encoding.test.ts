// Sluice's spans on their way out: written into binary batches on the event loop (span-codec.ts),
// transferred to the export thread, written as OTLP protobuf from there (otlp-span-batch.ts). The
// request must decode to what the SDK's own serializer writes for the same spans as recorded
// (EventSpan.toRecord): a collector sees the same request, whatever a handler did to the span.
import { type SpanContext, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { TraceState } from '@opentelemetry/core';
import type { SourceEvent } from '../../../src/broker/contract.ts';
import { EventSpan } from '../../../src/tracing/event-span.ts';
import { encodeSpanBatches } from '../../../src/tracing/otlp-span-batch.ts';
import { type EncodedSpans, SpanBatchWriter } from '../../../src/tracing/span-codec.ts';
import { toReadableSpan } from './readable-span.ts';

// opentelemetry-proto collector/trace/v1, trace/v1, resource/v1, common/v1 (the fields spans use).
const root = protobuf.parse(`
syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5;
  int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10; repeated Event events = 11; uint32 dropped_events_count = 12;
  repeated Link links = 13; uint32 dropped_links_count = 14; Status status = 15; fixed32 flags = 16;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; } }
message ArrayValue { repeated AnyValue values = 1; }
`).root;
const Request = root.lookupType('ExportTraceServiceRequest');
const decode = (bytes: Uint8Array) => Request.toObject(Request.decode(bytes), { defaults: true, longs: String, bytes: String });

/** `spans` as the export thread gets them: in batches of `perBatch`, each buffer transferred. */
async function crossed(spans: EventSpan[], perBatch: number): Promise<EncodedSpans[]> {
  const writer = new SpanBatchWriter();
  const batches: EncodedSpans[] = [];
  for (const span of spans) {
    writer.write(span);
    if (writer.count === perBatch) batches.push(writer.take());
  }
  if (writer.count > 0) batches.push(writer.take());
  const { port1, port2 } = new MessageChannel();
  const out: EncodedSpans[] = [];
  for (const batch of batches) {
    const received = new Promise<EncodedSpans>((resolve) => port2.once('message', resolve));
    port1.postMessage(batch, [batch.buffer]);
    out.push(await received);
    expect(batch.buffer.byteLength).toBe(0); // transferred, not copied
  }
  port1.close();
  return out;
}

/** Both encodings of `spans`, decoded. */
async function both(spans: EventSpan[], resource: Record<string, string>, perBatch = 128) {
  const sdkResource = resourceFromAttributes(resource);
  return {
    ours: decode(encodeSpanBatches(await crossed(spans, perBatch), resource)),
    sdk: decode(ProtobufTraceSerializer.serializeRequest(spans.map((span) => toReadableSpan(span.toRecord(), sdkResource)))!),
  };
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const REMOTE = { traceId: TRACE, spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true };

function eventOf(id: number, source = 'orders', partition = 'orders-0'): SourceEvent {
  return {
    id: `${partition}@${id}`,
    key: undefined,
    payload: Buffer.alloc(0),
    headers: {},
    timestamp: 0,
    position: { partition, offset: String(id) },
    source,
    attempt: 1,
    ack: () => undefined,
    nack: () => undefined,
  };
}

/** An event span as the tracer records a processed event (otel-event-tracer.ts). */
function processed(ended: EventSpan[], event: SourceEvent, parent: SpanContext | undefined = REMOTE): EventSpan {
  const span = new EventSpan({ ended: (s) => ended.push(s) }, undefined, SpanKind.CONSUMER, parent, 1_764_200_000_123.5, {
    system: 'kafka',
    event,
  });
  span.handlerStart = 1_764_200_000_124.5;
  span.handlerAttempts = 1;
  span.outcome = 'processed';
  return span;
}

describe('OTLP protobuf of Sluice spans, from the binary batches', () => {
  it('decodes to the same request as the SDK serializer writes for the same spans', async () => {
    const ended: EventSpan[] = [];
    // A failed event whose handler added to its span: every kind of value, events, a link.
    const failed = processed(ended, eventOf(41), { ...REMOTE, traceState: new TraceState('vendor=abc') });
    failed.setAttributes({
      'sluice.attempt': 3, // set through the API: wins over the origin's, in its place
      big: 2 ** 40,
      negative: -5,
      ratio: 0.25,
      ok: true,
      list: ['a', 'b'],
      utf8: 'bestellung für Zoë ✓',
      long: 'x'.repeat(300),
    });
    failed.recordException(new TypeError('bad total'));
    failed.addLink({ context: { traceId: TRACE, spanId: '00f067aa0ba902b7', traceFlags: 1 }, attributes: { why: 'batch' } });
    failed.outcome = 'dead-lettered';
    failed.setStatus({ code: SpanStatusCode.ERROR, message: 'bad total' });
    const deadLetter = new EventSpan(
      { ended: (s) => ended.push(s) },
      'dead letter',
      SpanKind.PRODUCER,
      failed.spanContext(),
      1_764_200_000_129,
    );
    deadLetter.end(1_764_200_000_129.75);
    failed.end(1_764_200_000_130.25);
    // A plain processed event that started its own trace, one with a non-ASCII topic, a renamed one.
    processed(ended, eventOf(42), undefined).end(1_764_200_000_131);
    processed(ended, eventOf(43, 'commandes-été', 'p-ü')).end(1_764_200_000_132);
    const renamed = processed(ended, eventOf(44));
    renamed.updateName('orders validate');
    for (let i = 0; i < 200; i++) renamed.addEvent(`e${i}`, 1_764_200_000_133); // over the limit: counted as dropped
    renamed.end(1_764_200_000_134);

    const { ours, sdk } = await both(ended, { 'service.name': 'orders-ingest' }, 2);
    expect(ours).toEqual(sdk);
    const spans = (ours as { resourceSpans: { scopeSpans: { spans: { name: string; attributes: { key: string }[] }[] }[] }[] })
      .resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(spans.map((span) => span.name)).toEqual([
      'dead letter',
      'orders process',
      'orders process',
      'commandes-été process',
      'orders validate',
    ]);
    expect(spans[1]!.attributes.map((kv) => kv.key).slice(0, 9)).toEqual([
      'messaging.system',
      'messaging.operation.type',
      'messaging.destination.name',
      'messaging.destination.partition.id',
      'messaging.message.id',
      'sluice.offset',
      'sluice.attempt',
      'sluice.handler.attempts',
      'sluice.outcome',
    ]);
  });

  it('writes bodies longer than one length byte holds (many spans, long strings), across batches', async () => {
    const ended: EventSpan[] = [];
    for (let i = 0; i < 600; i++) {
      const span = processed(ended, eventOf(i, 'o'.repeat(i % 200)));
      span.setAttribute('note', 'y'.repeat(i));
      span.end(1_764_200_000_200 + i);
    }
    const { ours, sdk } = await both(ended, { 'service.name': 'sluice' });
    expect(ours).toEqual(sdk);
  });
});
