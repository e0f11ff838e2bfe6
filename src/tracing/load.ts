import type { Logger } from 'pino';
import type { TracingConfig } from './config.ts';
import type { EventTracer } from './event-tracer.ts';
import { tracingSettings } from './settings.ts';

/**
 * The event tracer for `tracing`, or undefined when tracing is off. The OpenTelemetry SDK and
 * exporter are imported here on demand (./otel-setup.ts), never at start-up: with tracing off
 * Sluice loads none of it, so its start-up time and memory are as before.
 */
export async function loadEventTracer(
  config: TracingConfig,
  broker: string,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<EventTracer | undefined> {
  if (!config.enabled) return undefined;
  const settings = tracingSettings(config, env);
  const { createOtelEventTracer } = await import('./otel-setup.ts');
  const tracer = await createOtelEventTracer(settings, broker, logger);
  logger.info(
    { endpoint: settings.endpoint, sampleRatio: settings.sampleRatio, serviceName: settings.serviceName, exemplars: settings.exemplars },
    'tracing on: exporting spans over OTLP/HTTP',
  );
  return tracer;
}
