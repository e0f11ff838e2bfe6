import { DiagLogLevel, diag } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Logger } from 'pino';
import { withTimeout } from '../util/with-timeout.ts';
import { ExportThread } from './export-thread.ts';
import { OtelEventTracer } from './otel-event-tracer.ts';
import type { TracingSettings } from './settings.ts';

/**
 * The OpenTelemetry SDK as Sluice runs it; imported only when tracing is on (load.ts).
 *
 * Two ways out, to the same OTLP/HTTP (protobuf) endpoint:
 * - Sluice's event spans are `EventSpan`s (event-span.ts), recorded on the event loop and
 *   serialized and exported by a worker thread (export-thread.ts). Sluice has already decided
 *   which events are traced (sampler.ts) before it starts one, so no SDK sampler is asked again
 *   (that would trace ratio² of them).
 * - The global provider, registered with the AsyncLocalStorage context manager and the W3C
 *   propagator, serves the handler's own spans (`trace.getTracer(…)` in a handler): parent based
 *   with the same ratio, so a handler's spans follow the event's decision. They are rare and the
 *   handler's own, so they keep the SDK's batch processor and exporter on the event loop.
 */
export async function createOtelEventTracer(settings: TracingSettings, broker: string, logger: Logger): Promise<OtelEventTracer> {
  const warn = logger.child({ component: 'tracing' });
  diag.setLogger(
    {
      error: (message) => warn.warn(message),
      warn: (message) => warn.warn(message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  const exporter = new OTLPTraceExporter({
    url: settings.endpoint,
    headers: { ...settings.headers },
    timeoutMillis: settings.exportTimeoutMs,
  });
  const processor = new BatchSpanProcessor(exporter, { exportTimeoutMillis: settings.exportTimeoutMs, scheduledDelayMillis: 1000 });
  const resource = resourceFromAttributes({ 'service.name': settings.serviceName });
  const propagator = new W3CTraceContextPropagator();
  const global = new NodeTracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [processor],
  });
  global.register({ propagator });
  const events = new ExportThread(settings, warn);
  // Start-up waits for the export thread to have loaded the exporter (a few hundred ms of module
  // loading): a thread that cannot start fails start-up here, not silently at the first span.
  await withTimeout(events.ready, 60_000, 'starting the span export thread');
  const shutdown = async () => {
    await Promise.all([
      events.shutdown(settings.exportTimeoutMs),
      global.shutdown().catch((error: unknown) => warn.warn({ error: String(error) }, "exporting the handler's last spans failed")),
    ]);
  };
  return new OtelEventTracer(events, propagator, broker, settings.sampleRatio, shutdown, settings.exemplars);
}
