// The export thread (export-thread.ts starts it): exports the span records the event loop sends
// over OTLP/HTTP (protobuf), one export of up to `exportBatch` (512) spans at a time, as soon as
// that many are here or when the oldest has waited `exportDelayMs`, through the SDK's OTLP/HTTP
// export delegate (transport, retries, timeout, headers) with Sluice's own protobuf encoding of
// the batches (otlp-span-batch.ts: the SDK's serializer was most of this thread's work). Each
// export's end is reported back with its span count, so the event loop knows how many spans are
// still on their way and can bound them. The thread runs 10 nice steps below the process
// (thread-priority.ts): spans yield the CPU to the events they trace.
import { parentPort, workerData } from 'node:worker_threads';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ExportThreadData, ToExportThread } from './export-thread.ts';
import { encodeSpanBatches } from './otlp-span-batch.ts';
import type { EncodedSpans } from './span-codec.ts';
import { lowerThreadPriority } from './thread-priority.ts';

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
const exporter = new OTLPExporterBase<EncodedSpans[]>(
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
      serializeRequest: (batches: EncodedSpans[]) => encodeSpanBatches(batches, resource),
      deserializeResponse: (body: Uint8Array) => ProtobufTraceSerializer.deserializeResponse(body),
    },
    'otlp_http_span_exporter',
    { name: 'span', countItems: (batches: EncodedSpans[]) => spanCount(batches) },
    undefined,
  ),
);

/** Batches as they came (span-codec.ts), oldest first, and the spans they hold. */
let queue: EncodedSpans[] = [];
let queued = 0;
let exporting = false;
let timer: NodeJS.Timeout | undefined;
const flushes: number[] = [];
lowerThreadPriority(10);
port.postMessage({ type: 'ready' });

port.on('message', (message: ToExportThread) => {
  if (message.type === 'spans') {
    queue.push(message.batch);
    queued += message.batch.count;
    // A partly full export waits for more, at most exportDelayMs from the first span it holds.
    if (queued < MAX_EXPORT_BATCH) {
      timer ??= setTimeout(() => {
        timer = undefined;
        void pump(true);
      }, data.exportDelayMs);
      return;
    }
  } else flushes.push(message.id);
  void pump(true);
});

function spanCount(batches: readonly EncodedSpans[]): number {
  let count = 0;
  for (const batch of batches) count += batch.count;
  return count;
}

/** The oldest batches that together hold at least MAX_EXPORT_BATCH spans (or all there are). */
function takeExport(): EncodedSpans[] {
  let count = 0;
  let taken = 0;
  while (taken < queue.length && count < MAX_EXPORT_BATCH) count += queue[taken++]!.count;
  const batches = queue.slice(0, taken);
  queue = queue.slice(taken);
  queued -= count;
  return batches;
}

/** Exports full batches; with `all` (the delay ran out, or a flush) the partly full last one too. */
async function pump(all: boolean): Promise<void> {
  if (exporting) return;
  exporting = true;
  if (all && timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
  }
  try {
    while (queued >= MAX_EXPORT_BATCH || (all && queued > 0)) {
      const batches = takeExport();
      const count = spanCount(batches);
      const result = await new Promise<ExportResult>((resolve) => exporter.export(batches, resolve));
      port.postMessage({
        type: 'exported',
        count,
        cpuMicros: threadCpuMicros(),
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
  if (flushes.length > 0 || queued >= MAX_EXPORT_BATCH) void pump(true);
  else if (queued > 0)
    timer ??= setTimeout(() => {
      timer = undefined;
      void pump(true);
    }, data.exportDelayMs);
}

/** This thread's CPU time so far (µs): what tracing costs beside the event loop (bench:tracing prints it per span). */
function threadCpuMicros(): number {
  const { user, system } = process.threadCpuUsage();
  return user + system;
}
