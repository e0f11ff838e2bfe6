// Sluice's OTLP protobuf encoding of span records (the export thread's serializer) must decode to
// what the SDK's own serializer writes for the same spans: a collector sees the same request.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { encodeExportRequest } from '../../../src/tracing/otlp-encoding.ts';
import type { SpanRecord } from '../../../src/tracing/span-record.ts';
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

/** Both encodings of `records`, decoded. */
function both(records: SpanRecord[], resource: Record<string, string>) {
  const sdkResource = resourceFromAttributes(resource);
  return {
    ours: decode(encodeExportRequest(records, resource)),
    sdk: decode(ProtobufTraceSerializer.serializeRequest(records.map((r) => toReadableSpan(r, sdkResource)))!),
  };
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function record(overrides: Partial<SpanRecord>): SpanRecord {
  return {
    traceId: TRACE,
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
    name: 'orders process',
    kind: SpanKind.CONSUMER,
    start: 1_764_200_000_123.5,
    end: 1_764_200_000_130.25,
    attributes: {},
    events: [],
    links: [],
    status: { code: SpanStatusCode.UNSET },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    ...overrides,
  };
}

describe('OTLP protobuf encoding of span records', () => {
  it('decodes to the same request as the SDK serializer writes for the same spans', () => {
    const records = [
      record({
        parentSpanId: 'b7ad6b7169203331',
        parentRemote: true,
        traceState: 'vendor=abc',
        attributes: {
          'messaging.system': 'kafka',
          'sluice.attempt': 1,
          big: 2 ** 40,
          negative: -5,
          ratio: 0.25,
          ok: true,
          list: ['a', 'b'],
          utf8: 'bestellung für Zoë ✓',
          long: 'x'.repeat(300),
        },
        events: [
          { name: 'handler.start', time: 1_764_200_000_124.5 },
          { name: 'exception', time: 1_764_200_000_129, attributes: { 'exception.message': 'bad total' } },
        ],
        status: { code: SpanStatusCode.ERROR, message: 'bad total' },
        droppedAttributesCount: 3,
      }),
      record({ spanId: '1111111111111111', kind: SpanKind.PRODUCER, name: 'dead letter', parentSpanId: '00f067aa0ba902b7' }),
      record({
        spanId: 'abcdef0123456789',
        links: [{ traceId: TRACE, spanId: 'b7ad6b7169203331', traceFlags: 1, attributes: { why: 'batch' } }],
        droppedEventsCount: 2,
      }),
    ];
    const { ours, sdk } = both(records, { 'service.name': 'orders-ingest' });
    expect(ours).toEqual(sdk);
    const spans = (ours as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(spans.map((span) => span.name)).toEqual(['orders process', 'dead letter', 'orders process']);
  });

  it('writes bodies longer than one length byte holds (many spans, long strings)', () => {
    const records = Array.from({ length: 600 }, (_, i) =>
      record({
        spanId: (i + 1).toString(16).padStart(16, '0'),
        attributes: { 'messaging.message.id': `orders/0@${i}`, note: 'y'.repeat(i) },
      }),
    );
    const { ours, sdk } = both(records, { 'service.name': 'sluice' });
    expect(ours).toEqual(sdk);
  });
});
