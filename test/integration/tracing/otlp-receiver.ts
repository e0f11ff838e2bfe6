// An OTLP/HTTP traces receiver for tests: a node:http server on 127.0.0.1 that accepts
// POST /v1/traces with `application/x-protobuf` bodies, as a Collector's otlphttp receiver does,
// and decodes each ExportTraceServiceRequest with protobufjs from the message definitions below.
// They are the parts of opentelemetry-proto (collector/trace/v1, trace/v1, resource/v1,
// common/v1) a span needs, with the upstream field numbers; fields left out (links, schema URLs)
// are skipped as unknown fields, as any proto3 reader does.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse { }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  repeated Event events = 11;
  Status status = 15;
  fixed32 flags = 16;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
`;

const root = protobuf.parse(OTLP_PROTO, { keepCase: false }).root;
const Request = root.lookupType('otlp.ExportTraceServiceRequest');
const Response = root.lookupType('otlp.ExportTraceServiceResponse');

/** A received span, ids in hex, attributes as plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  /** Start and end, epoch ms (from the span's unix nanos). */
  startMs: number;
  endMs: number;
  attributes: Record<string, unknown>;
  events: { name: string; timeMs: number; attributes: Record<string, unknown> }[];
  status: { code: number; message: string };
  resource: Record<string, unknown>;
  scope: string;
}

interface DecodedKeyValue {
  key: string;
  value?: Record<string, unknown>;
}

function attributes(list: DecodedKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    if (!value) continue;
    const [kind] = Object.keys(value);
    const raw = kind === undefined ? undefined : value[kind];
    out[key] = kind === 'intValue' ? Number(raw) : raw;
  }
  return out;
}

/** Unix nanoseconds (decoded as a decimal string) as epoch ms. */
const epochMs = (nanos: string | undefined) => Number(BigInt(nanos ?? '0') / 1000n) / 1000;

const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('hex');

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Requests that were not valid OTLP protobuf: a test should expect none. */
  readonly rejected: string[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<string> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.method !== 'POST' || request.url !== '/v1/traces' || request.headers['content-type'] !== 'application/x-protobuf') {
          this.rejected.push(`${request.method} ${request.url} ${request.headers['content-type']}`);
          response.writeHead(415).end();
          return;
        }
        try {
          this.record(Request.toObject(Request.decode(Buffer.concat(chunks)), { defaults: true, longs: String, bytes: Array }));
        } catch (error) {
          this.rejected.push(String(error));
          response.writeHead(400).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'application/x-protobuf' });
        response.end(Buffer.from(Response.encode(Response.create({})).finish()));
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
    return this.url;
  }

  private record(request: Record<string, unknown>): void {
    type Decoded = {
      resourceSpans: {
        resource?: { attributes: DecodedKeyValue[] };
        scopeSpans: {
          scope?: { name: string };
          spans: {
            traceId: number[];
            spanId: number[];
            parentSpanId: number[];
            name: string;
            kind: number;
            startTimeUnixNano: string;
            endTimeUnixNano: string;
            attributes: DecodedKeyValue[];
            events: { name: string; timeUnixNano: string; attributes: DecodedKeyValue[] }[];
            status?: { code: number; message: string };
          }[];
        }[];
      }[];
    };
    for (const resourceSpans of (request as Decoded).resourceSpans) {
      const resource = attributes(resourceSpans.resource?.attributes);
      for (const scopeSpans of resourceSpans.scopeSpans) {
        for (const span of scopeSpans.spans) {
          this.spans.push({
            traceId: hex(Uint8Array.from(span.traceId)),
            spanId: hex(Uint8Array.from(span.spanId)),
            parentSpanId: hex(Uint8Array.from(span.parentSpanId)),
            name: span.name,
            kind: span.kind,
            startMs: epochMs(span.startTimeUnixNano),
            endMs: epochMs(span.endTimeUnixNano),
            attributes: attributes(span.attributes),
            events: span.events.map((event) => ({
              name: event.name,
              timeMs: epochMs(event.timeUnixNano),
              attributes: attributes(event.attributes),
            })),
            status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
            resource,
            scope: scopeSpans.scope?.name ?? '',
          });
        }
      }
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
