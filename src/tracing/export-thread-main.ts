// The export thread (export-thread.ts starts it): turns the span records the event loop sends
// into the SDK's ReadableSpans and exports them with the OTLP/HTTP (protobuf) exporter, one
// export of up to 512 spans at a time. Each export's end is reported back with its span count, so
// the event loop knows how many spans are still on their way and can bound them.
import { parentPort, workerData } from 'node:worker_threads';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ExportThreadData, ToExportThread } from './export-thread.ts';
import { decodeSpans } from './span-codec.ts';
import { type SpanRecord, toReadableSpan } from './span-record.ts';

const MAX_EXPORT_BATCH = 512;
const data = workerData as ExportThreadData;
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
const exporter = new OTLPTraceExporter({ url: data.endpoint, headers: { ...data.headers }, timeoutMillis: data.exportTimeoutMs });
const resource = resourceFromAttributes({ 'service.name': data.serviceName });

let queue: SpanRecord[] = [];
let exporting = false;
const flushes: number[] = [];
port.postMessage({ type: 'ready' });

port.on('message', (message: ToExportThread) => {
  if (message.type === 'spans') {
    const spans = decodeSpans(message.spans);
    queue = queue.length === 0 ? spans : queue.concat(spans);
  } else flushes.push(message.id);
  void pump();
});

async function pump(): Promise<void> {
  if (exporting) return;
  exporting = true;
  try {
    while (queue.length > 0) {
      const batch = queue.length <= MAX_EXPORT_BATCH ? queue : queue.slice(0, MAX_EXPORT_BATCH);
      queue = queue.length <= MAX_EXPORT_BATCH ? [] : queue.slice(MAX_EXPORT_BATCH);
      const result = await new Promise<ExportResult>((resolve) =>
        exporter.export(
          batch.map((record) => toReadableSpan(record, resource)),
          resolve,
        ),
      );
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
  if (queue.length > 0 || flushes.length > 0) void pump();
}
