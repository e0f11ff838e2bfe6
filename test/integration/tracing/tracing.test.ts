// Tracing end to end: `sluice run` (a child process) on the HTTP source with tracing at 100 %,
// exporting over OTLP/HTTP (protobuf) to a receiver in this test that decodes what it gets.
// Events arrive with a traceparent (their own, or the request's); the exported spans must
// continue those traces with the attributes users query by, the handler must see its span, a
// failing event's dead letter must carry a traceparent of the same trace, and /metrics must
// carry trace_id exemplars. No timing assertions.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceparent } from '../../../src/tracing/propagation.ts';
import { freePort, spawnSluice, type SluiceProcess } from '../../sluice-cli.ts';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';

const REQUEST_TRACE = '0af7651916cd43dd8448eb211c80319c';
const REQUEST_SPAN = 'b7ad6b7169203331';
const EVENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const EVENT_SPAN = '00f067aa0ba902b7';
const FAIL_TRACE = '5c1e0f2a9b8d7c6e5f4a3b2c1d0e9f8a';

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.resolve(probe()).catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('tracing over OTLP/HTTP', () => {
  const receiver = new OtlpReceiver();
  let dir: string;
  let sluice: SluiceProcess | undefined;
  let eventsUrl: string;
  let metricsUrl: string;
  let spans: ReceivedSpan[];
  let metrics: string;

  beforeAll(async () => {
    const endpoint = await receiver.start();
    dir = await mkdtemp(join(tmpdir(), 'sluice-tracing-'));
    const [httpPort, metricsPort] = [await freePort(), await freePort()];
    eventsUrl = `http://127.0.0.1:${httpPort}/v1/events`;
    metricsUrl = `http://127.0.0.1:${metricsPort}`;
    const config = {
      broker: { type: 'http', http: { host: '127.0.0.1', port: httpPort, source: 'orders', ack: 'processed' } },
      handler: { module: join(import.meta.dirname, 'span-recorder.mjs'), retry: { maxAttempts: 1 } },
      deadLetter: { type: 'file', path: join(dir, 'dead-letters.jsonl') },
      metrics: { host: '127.0.0.1', port: metricsPort },
      tracing: { enabled: true, sampleRatio: 1, endpoint, serviceName: 'sluice-tracing-test', exemplars: true },
      log: { summaryIntervalMs: 0 },
    };
    await writeFile(join(dir, 'sluice.json'), JSON.stringify(config));
    sluice = spawnSluice(['run', '--config', join(dir, 'sluice.json')], { env: { SPAN_RECORD_FILE: join(dir, 'spans.jsonl') } });
    await until('sluice ready', async () => ((await fetch(`${metricsUrl}/readyz`)).ok ? true : undefined));

    // One request with a traceparent of its own: an event without one inherits it, an event with
    // one keeps it; a second request's event fails and is dead-lettered.
    const first = await fetch(eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${REQUEST_TRACE}-${REQUEST_SPAN}-01`, tracestate: 'test=1' },
      body: JSON.stringify([
        { id: 'inherits', payload: { n: 1 } },
        { id: 'own', payload: { n: 2 }, headers: { traceparent: `00-${EVENT_TRACE}-${EVENT_SPAN}-01` } },
      ]),
    });
    expect(first.status).toBe(200);
    const second = await fetch(eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'fails', payload: 'fail', headers: { traceparent: `00-${FAIL_TRACE}-${EVENT_SPAN}-01` } }),
    });
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ deadLettered: 1 });
    metrics = await (await fetch(`${metricsUrl}/metrics`, { headers: { accept: 'application/openmetrics-text' } })).text();

    sluice.child.kill('SIGTERM'); // a graceful stop exports the spans still buffered
    expect(await sluice.exited).toBe(0);
    sluice = undefined;
    spans = receiver.spans;
  });

  afterAll(async () => {
    if (sluice) {
      sluice.child.kill('SIGKILL');
      await sluice.exited;
    }
    await receiver.close();
  });

  const eventSpan = (id: string) => {
    const span = spans.find((candidate) => candidate.name === 'orders process' && candidate.attributes['messaging.message.id'] === id);
    if (!span)
      throw new Error(`no span of event ${id}; spans: ${spans.map((s) => `${s.name} ${s.attributes['messaging.message.id']}`).join(', ')}`);
    return span;
  };
  const children = (parent: ReceivedSpan) => spans.filter((span) => span.parentSpanId === parent.spanId);

  it('exports valid OTLP protobuf with the service name', () => {
    expect(receiver.rejected).toEqual([]);
    expect(spans.length).toBeGreaterThan(0);
    expect(new Set(spans.map((span) => span.resource['service.name']))).toEqual(new Set(['sluice-tracing-test']));
  });

  it("continues each event's trace: its own traceparent, else the request's", () => {
    const inherits = eventSpan('inherits');
    expect(inherits.traceId).toBe(REQUEST_TRACE);
    expect(inherits.parentSpanId).toBe(REQUEST_SPAN);
    const own = eventSpan('own');
    expect(own.traceId).toBe(EVENT_TRACE);
    expect(own.parentSpanId).toBe(EVENT_SPAN);
  });

  it('carries broker, source, partition and attempt, and the outcome', () => {
    expect(eventSpan('inherits')).toMatchObject({
      kind: 5, // CONSUMER
      attributes: {
        'messaging.system': 'http',
        'messaging.destination.name': 'orders',
        'messaging.destination.partition.id': 'http',
        'messaging.operation.type': 'process',
        'sluice.attempt': 1,
        'sluice.outcome': 'processed',
      },
    });
  });

  it('marks the queue wait and handler as span events; the handler sees the span and nests its own', async () => {
    const event = eventSpan('inherits');
    expect(event.events.map((step) => step.name)).toEqual(['handler.start']);
    expect(children(event).map((span) => span.name)).toEqual(['handler work']);
    const records = (await readFile(join(dir, 'spans.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; traceId: string; spanId: string; recording: boolean });
    expect(records.find((record) => record.id === 'inherits')).toEqual({
      id: 'inherits',
      traceId: REQUEST_TRACE,
      spanId: event.spanId,
      recording: true,
    });
  });

  it("dead-letters a failing event with a traceparent of the event's trace", async () => {
    const event = eventSpan('fails');
    expect(event.status.code).toBe(2); // ERROR
    expect(event.attributes['sluice.outcome']).toBe('dead-lettered');
    const deadLetterSpan = children(event).find((span) => span.name === 'dead letter');
    expect(deadLetterSpan).toBeDefined();
    const line = JSON.parse((await readFile(join(dir, 'dead-letters.jsonl'), 'utf8')).trim()) as { headers: Record<string, string> };
    expect(parseTraceparent(line.headers.traceparent)).toEqual({ traceId: FAIL_TRACE, spanId: deadLetterSpan!.spanId, flags: 1 });
  });

  it('puts trace_id exemplars on the latency histograms (OpenMetrics)', () => {
    const traced = new Set([REQUEST_TRACE, EVENT_TRACE, FAIL_TRACE]);
    const exemplars = [...metrics.matchAll(/^sluice_processing_duration_seconds_bucket\{[^}]*\} \d+ # \{trace_id="([0-9a-f]{32})"\}/gm)];
    expect(exemplars.length).toBeGreaterThan(0);
    for (const [, traceId] of exemplars) expect(traced.has(traceId!)).toBe(true);
    expect(metrics.trimEnd().endsWith('# EOF')).toBe(true);
  });
});
