import { DEFAULT_SAMPLE_RATIO, DEFAULT_SERVICE_NAME, DEFAULT_TRACES_ENDPOINT, type TracingConfig } from './config.ts';

/** What the tracer is built from: the `tracing` section with the OTEL_* variables applied. */
export interface TracingSettings {
  readonly sampleRatio: number;
  readonly endpoint: string;
  readonly serviceName: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly exportTimeoutMs: number;
  readonly exemplars: boolean;
}

/**
 * The standard OpenTelemetry variables, read where the matching key is left at its default: a
 * platform that injects OTEL_EXPORTER_OTLP_ENDPOINT into every pod (an operator, a sidecar
 * injector) then needs no Sluice-specific setting, while a value written in Sluice's config (or
 * a SLUICE_TRACING__ENDPOINT variable) still wins. OTEL_TRACES_SAMPLER is not read: Sluice's sampler is always
 * parent-based with a ratio (sampler.ts); a malformed ratio is ignored, as the SDKs do.
 */
export function tracingSettings(config: TracingConfig, env: NodeJS.ProcessEnv = process.env): TracingSettings {
  let endpoint = config.endpoint;
  if (endpoint === DEFAULT_TRACES_ENDPOINT) {
    const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
    if (traces) endpoint = traces;
    else if (base) endpoint = `${base.replace(/\/+$/, '')}/v1/traces`;
  }
  let sampleRatio = config.sampleRatio;
  const ratio = env.OTEL_TRACES_SAMPLER_ARG === undefined ? Number.NaN : Number(env.OTEL_TRACES_SAMPLER_ARG);
  if (sampleRatio === DEFAULT_SAMPLE_RATIO && ratio >= 0 && ratio <= 1) sampleRatio = ratio;
  const serviceName = config.serviceName === DEFAULT_SERVICE_NAME && env.OTEL_SERVICE_NAME ? env.OTEL_SERVICE_NAME : config.serviceName;
  const headers = { ...parseHeaderList(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS), ...config.headers };
  return { sampleRatio, endpoint, serviceName, headers, exportTimeoutMs: config.exportTimeoutMs, exemplars: config.exemplars };
}

/** `k1=v1,k2=v2` (values URL-encoded), the OTEL_EXPORTER_OTLP_HEADERS format; bad pairs are skipped. */
export function parseHeaderList(list: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!list) return headers;
  for (const pair of list.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // a malformed escape: skip the pair rather than fail start-up over a header
    }
  }
  return headers;
}
