import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/schema.ts';
import { parseHeaderList, tracingSettings } from '../../../src/tracing/settings.ts';

const defaults = () => configSchema.parse({ tracing: { enabled: true } }).tracing;

describe('tracing settings and the OTEL_* variables', () => {
  it('is off by default, at 1 %, to a local collector', () => {
    const tracing = configSchema.parse({}).tracing;
    expect(tracing).toMatchObject({
      enabled: false,
      sampleRatio: 0.01,
      endpoint: 'http://127.0.0.1:4318/v1/traces',
      serviceName: 'sluice',
    });
  });

  it('reads the standard variables for keys left at their default', () => {
    const settings = tracingSettings(defaults(), {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_SERVICE_NAME: 'orders-ingest',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%20d,bad',
    });
    expect(settings).toMatchObject({
      endpoint: 'http://collector:4318/v1/traces',
      sampleRatio: 0.25,
      serviceName: 'orders-ingest',
      headers: { 'x-api-key': 'abc d' },
    });
    expect(tracingSettings(defaults(), { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:1/x' }).endpoint).toBe('http://t:1/x');
  });

  it("lets Sluice's own config win, and ignores a malformed ratio", () => {
    const config = configSchema.parse({ tracing: { enabled: true, sampleRatio: 1, endpoint: 'http://mine:4318/v1/traces' } }).tracing;
    const settings = tracingSettings(config, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318', OTEL_TRACES_SAMPLER_ARG: '0.5' });
    expect(settings).toMatchObject({ endpoint: 'http://mine:4318/v1/traces', sampleRatio: 1 });
    expect(tracingSettings(defaults(), { OTEL_TRACES_SAMPLER_ARG: 'lots' }).sampleRatio).toBe(0.01);
  });

  it('refuses exemplars without tracing, naming the key', () => {
    const result = configSchema.safeParse({ tracing: { exemplars: true } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['tracing', 'exemplars']);
  });

  it('parses the OTLP headers list', () => {
    expect(parseHeaderList('a=1, b = 2 ,=x,c')).toEqual({ a: '1', b: '2' });
  });
});
