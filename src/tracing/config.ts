import { z } from 'zod';

/** The default OTLP/HTTP traces endpoint: a collector on the same host or pod. */
export const DEFAULT_TRACES_ENDPOINT = 'http://127.0.0.1:4318/v1/traces';
export const DEFAULT_SAMPLE_RATIO = 0.01;
export const DEFAULT_SERVICE_NAME = 'sluice';

/**
 * The `tracing` section: OpenTelemetry traces of events, off by default. When it is off the SDK
 * is never loaded (src/tracing/load.ts imports it on demand), so start-up and memory do not
 * change. The standard OTEL_* variables are read for keys left at their default (settings.ts).
 */
export const tracingSchema = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe('Export a trace span per event (receive, queue wait, handler, dead letter, ack) over OTLP/HTTP (protobuf).'),
    sampleRatio: z
      .number()
      .min(0)
      .max(1)
      .default(DEFAULT_SAMPLE_RATIO)
      .describe(
        'Share of events without a sampled parent that are traced, 0–1 (OTEL_TRACES_SAMPLER_ARG when left at the default). An incoming traceparent decides for its event: sampled is traced, not sampled is not.',
      ),
    endpoint: z
      .url()
      .default(DEFAULT_TRACES_ENDPOINT)
      .describe(
        'OTLP/HTTP traces URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces, when left at the default).',
      ),
    serviceName: z
      .string()
      .min(1)
      .default(DEFAULT_SERVICE_NAME)
      .describe('service.name of the spans (OTEL_SERVICE_NAME when left at the default).'),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .describe('HTTP headers sent with each export (authentication of a hosted collector); merged over OTEL_EXPORTER_OTLP_HEADERS.'),
    exportTimeoutMs: z.number().int().min(1).default(10_000).describe('Longest wait for one export request.'),
    exemplars: z
      .boolean()
      .default(false)
      .describe(
        'Attach trace_id exemplars of traced events to the latency histograms; /metrics then speaks OpenMetrics 1.0 (needed for exemplars).',
      ),
  })
  .strict()
  .prefault({})
  .describe('OpenTelemetry tracing of events (off unless enabled): W3C traceparent read from headers, spans exported over OTLP.')
  .superRefine((tracing, ctx) => {
    if (tracing.exemplars && !tracing.enabled) {
      ctx.addIssue({ code: 'custom', path: ['exemplars'], message: 'exemplars need tracing.enabled: true' });
    }
  });

export type TracingConfig = z.infer<typeof tracingSchema>;
