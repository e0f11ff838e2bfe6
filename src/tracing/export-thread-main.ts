// The export thread (export-thread.ts starts it): exports the span records the event loop sends
// over OTLP/HTTP (protobuf), one export of up to `exportBatch` (512) spans at a time, as soon as
// that many are here or when the oldest has waited `exportDelayMs`, through the SDK's OTLP/HTTP
// export delegate (transport, retries, timeout, headers) with Sluice's own protobuf encoding of
// the records (otlp-encoding.ts: the SDK's serializer was most of this thread's work). Each export's end is reported back with its span count, so
// the event loop knows how many spans are still on their way and can bound them.
import { parentPort, workerData } from 'node:worker_threads';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ExportThreadData, ToExportThread } from './export-thread.ts';
import { encodeExportRequest } from './otlp-encoding.ts';
import { decodeSpans } from './span-codec.ts';
import type { SpanRecord } from './span-record.ts';

const data = workerData as ExportThreadData;
const MAX_EXPORT_BATCH = data.exportBatch;
const port = parentPort!;
// The exporter's own warnings (a refused connection, a bad status) go to the event loop's log.
diag.setLogger(
  {
    error: (message) => port.postMessage({ type: 'warn', message }),
    warn: (message) => port.postMessage({ type: 'warn', message }),
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  },
  DiagLogLevel.WARN,
);
const resource = { 'service.name': data.serviceName };
// What OTLPTraceExporter (exporter-trace-otlp-proto) is, with the records' own serializer.
const exporter = new OTLPExporterBase<SpanRecord[]>(
  createOtlpHttpExportDelegate(
    convertLegacyHttpOptions(
      { url: data.endpoint, headers: { ...data.headers }, timeoutMillis: data.exportTimeoutMs },
      'TRACES',
      'v1/traces',
      {
        'Content-Type': 'application/x-protobuf',
      },
    ),
    {
      serializeRequest: (records: SpanRecord[]) => encodeExportRequest(records, resource),
      deserializeResponse: (body: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(body),
    },
    'otlp_http_span_exporter',
    { name: 'span', countItems: (records: SpanRecord[]) => records.length },
    undefined,
  ),
);

let queue: SpanRecord[] = [];
let exporting = false;
let timer: NodeJS.Timeout | undefined;
const flushes: number[] = [];
port.postMessage({ type: 'ready' });

port.on('message', (message: ToExportThread) => {
  if (message.type === 'spans') {
    const spans = decodeSpans(message.batch);
    queue = queue.length === 0 ? spans : queue.concat(spans);
    // A partly full export waits for more, at most exportDelayMs from the first span it holds.
    if (queue.length < MAX_EXPORT_BATCH) {
      timer ??= setTimeout(() => {
        timer = undefined;
        void pump(true);
      }, data.exportDelayMs);
      return;
    }
  } else flushes.push(message.id);
  void pump(true);
});

/** Exports full batches; with `all` (the delay ran out, or a flush) the partly full last one too. */
async function pump(all: boolean): Promise<void> {
  if (exporting) return;
  exporting = true;
  if (all && timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
  }
  try {
    while (queue.length >= MAX_EXPORT_BATCH || (all && queue.length > 0)) {
      const batch = queue.length <= MAX_EXPORT_BATCH ? queue : queue.slice(0, MAX_EXPORT_BATCH);
      queue = queue.length <= MAX_EXPORT_BATCH ? [] : queue.slice(MAX_EXPORT_BATCH);
      const result = await new Promise<ExportResult>((resolve) => exporter.export(batch, resolve));
      port.postMessage({
        type: 'exported',
        count: batch.length,
        error: result.code === ExportResultCode.SUCCESS ? undefined : String(result.error?.message ?? result.error ?? 'export failed'),
      });
    }
    if (flushes.length > 0) {
      await exporter.forceFlush();
      for (const id of flushes.splice(0)) port.postMessage({ type: 'flushed', id });
    }
  } finally {
    exporting = false;
  }
  // Spans or a flush that arrived during the last await.
  if (flushes.length > 0 || queue.length >= MAX_EXPORT_BATCH) void pump(true);
  else if (queue.length > 0)
    timer ??= setTimeout(() => {
      timer = undefined;
      void pump(true);
    }, data.exportDelayMs);
}
