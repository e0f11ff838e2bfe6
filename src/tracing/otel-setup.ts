import { DiagLogLevel, diag } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Logger } from 'pino';
import { OtelEventTracer } from './otel-event-tracer.ts';
import type { TracingSettings } from './settings.ts';

/**
 * The OpenTelemetry SDK as Sluice runs it; imported only when tracing is on (load.ts).
 *
 * Two providers share one batch processor and OTLP/HTTP (protobuf) exporter:
 * - Sluice's event spans come from a provider whose sampler always records, because Sluice has
 *   already decided which events are traced (sampler.ts) before asking for a span: asking the
 *   SDK's ratio sampler again would trace ratio² of them.
 * - The global provider, registered with the AsyncLocalStorage context manager and the W3C
 *   propagator, serves the handler's own spans (`trace.getTracer(…)` in a handler): parent based
 *   with the same ratio, so a handler's spans follow the event's decision.
 */
export function createOtelEventTracer(settings: TracingSettings, broker: string, logger: Logger): OtelEventTracer {
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
  const events = new BasicTracerProvider({ resource, sampler: new AlwaysOnSampler(), spanProcessors: [processor] });
  const shutdown = async () => {
    // The processor is shared: the first shutdown flushes and stops it, the second is a no-op.
    await events.shutdown().catch((error: unknown) => warn.warn({ error: String(error) }, 'exporting the last spans failed'));
    await global.shutdown().catch(() => undefined);
  };
  return new OtelEventTracer(events.getTracer('sluice'), propagator, broker, settings.sampleRatio, shutdown);
}
