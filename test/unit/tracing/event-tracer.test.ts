// The spans Sluice makes of events, read from the SDK's in-memory exporter: the structure, the
// attributes, the parent from an incoming traceparent, the handler's context.span, the dead
// letter's traceparent and the exemplars. The export over OTLP/HTTP is tested against a real
// receiver in test/integration/tracing.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../../adapters/memory/memory-broker.ts';
import { MemorySource } from '../../../adapters/memory/memory-source.ts';
import type { EventSink } from '../../../src/broker/contract.ts';
import { Pipeline } from '../../../src/core/pipeline.ts';
import { FileDeadLetter } from '../../../src/dead-letter/file-dead-letter.ts';
import type { Handler } from '../../../src/handler/handler.ts';
import { OtelEventTracer } from '../../../src/tracing/otel-event-tracer.ts';
import { parseTraceparent } from '../../../src/tracing/propagation.ts';
import type { EventSpan } from '../../../src/tracing/event-span.ts';
import { toReadableSpan } from './readable-span.ts';
import { eventually, silent } from '../helpers.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => context.setGlobalContextManager(contextManager.enable()));
afterAll(() => {
  contextManager.disable();
  context.disable();
});

function tracedPipeline(handler: Handler, sampleRatio: number, deadLetterPath?: string, exemplars = false, activeSpan?: boolean) {
  // The spans as the export thread hands them to the OTLP exporter, here to the SDK's in-memory one.
  const exporter = new InMemorySpanExporter();
  const resource = resourceFromAttributes({ 'service.name': 'test' });
  const sink = { ended: (span: EventSpan) => exporter.export([toReadableSpan(span.toRecord(), resource)], () => undefined) };
  const tracer = new OtelEventTracer(sink, new W3CTraceContextPropagator(), 'memory', sampleRatio, () => exporter.shutdown(), exemplars);
  const broker = new MemoryBroker();
  const source = new MemorySource(broker, {
    topic: 'orders',
    partitions: 1,
    group: 'g',
    startFrom: 'earliest',
    nackDelayMs: 5,
    commitIntervalMs: 10,
  });
  const pipeline = new Pipeline(
    {
      broker: 'memory',
      queue: { maxEvents: 100, maxBytes: 1 << 20, policy: 'block' },
      pool: { size: 2, orderByKey: false },
      shutdownTimeoutMs: 5_000,
      stallTimeoutMs: 60_000,
    },
    { source, handler, logger: silent, tracer, deadLetter: deadLetterPath ? new FileDeadLetter(deadLetterPath) : undefined, activeSpan },
  );
  return { exporter, broker, pipeline };
}

const byName = (spans: ReadableSpan[], name: string) => spans.filter((span) => span.name === name);

describe('event spans', () => {
  it('continue an incoming sampled trace: one span with the steps as events; context.span is it, and active', async () => {
    const seen: { span?: string; active?: string; recording?: boolean }[] = [];
    const { exporter, broker, pipeline } = tracedPipeline((_event, ctx) => {
      seen.push({
        span: ctx.span?.spanContext().spanId,
        active: trace.getActiveSpan()?.spanContext().spanId,
        recording: ctx.span?.isRecording(),
      });
    }, 0);
    await pipeline.start();
    await broker.publish('orders', [{ key: 'k', payload: Buffer.from('1'), headers: { traceparent: `00-${TRACE}-${PARENT}-01` } }]);
    await eventually(() => byName(exporter.getFinishedSpans(), 'orders process').length === 1, 10_000, 'the event span');
    const spans = exporter.getFinishedSpans(); // before stop: the exporter's shutdown clears it
    await pipeline.stop();

    const [process] = byName(spans, 'orders process');
    expect(process!.spanContext().traceId).toBe(TRACE);
    expect(process!.parentSpanContext?.spanId).toBe(PARENT);
    expect(process!.kind).toBe(SpanKind.CONSUMER);
    expect(process!.attributes).toMatchObject({
      'messaging.system': 'memory',
      'messaging.destination.name': 'orders',
      'messaging.destination.partition.id': 'orders/0',
      'sluice.attempt': 1,
      'sluice.handler.attempts': 1,
      'sluice.outcome': 'processed',
    });
    expect(process!.events.map((event) => event.name)).toEqual(['handler.start']);
    expect(seen).toEqual([{ span: process!.spanContext().spanId, active: process!.spanContext().spanId, recording: true }]);
    expect(process!.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('leave the active context alone for a built-in handler (activeSpan: false): context.span is still the event span', async () => {
    const seen: { span?: string; active?: string }[] = [];
    const { exporter, broker, pipeline } = tracedPipeline(
      (_event, ctx) => {
        seen.push({ span: ctx.span?.spanContext().spanId, active: trace.getActiveSpan()?.spanContext().spanId });
      },
      1,
      undefined,
      false,
      false,
    );
    await pipeline.start();
    await broker.publish('orders', [{ key: 'k', payload: Buffer.from('1') }]);
    await eventually(() => byName(exporter.getFinishedSpans(), 'orders process').length === 1, 10_000, 'the event span');
    const [process] = byName(exporter.getFinishedSpans(), 'orders process');
    await pipeline.stop();
    expect(seen).toEqual([{ span: process!.spanContext().spanId, active: undefined }]);
  });

  it('end the span of an event its source takes back unstarted as discarded; the next delivery has a span of its own', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    const { exporter, broker, pipeline } = tracedPipeline(() => {
      started++;
      return gate;
    }, 1);
    await pipeline.start();
    const events = [1, 2, 3, 4, 5].map((n) => ({ key: `k${n}`, payload: Buffer.from(String(n)) }));
    await broker.publish('orders', events);
    await eventually(() => pipeline.stats.received === 5 && started === 2, 10_000, 'two started, three queued');
    const sink = (pipeline as unknown as { sink: EventSink }).sink;
    const taken = sink.discard(() => true);
    expect(taken.length).toBe(3);
    const discarded = byName(exporter.getFinishedSpans(), 'orders process');
    expect(discarded.map((span) => span.attributes['sluice.outcome'])).toEqual(['discarded', 'discarded', 'discarded']);
    expect(discarded.every((span) => span.events.some((event) => event.name === 'discarded'))).toBe(true);
    release();
    await sink.deliver(taken); // handed back, as a source keeping a nacked event's key order does
    await eventually(() => pipeline.stats.completed === 5, 10_000, 'all five processed');
    const spans = exporter.getFinishedSpans();
    await pipeline.stop();
    const outcomes = byName(spans, 'orders process').map((span) => span.attributes['sluice.outcome']);
    expect(outcomes.filter((outcome) => outcome === 'processed').length).toBe(5);
    expect(outcomes.filter((outcome) => outcome === 'discarded').length).toBe(3);
  });

  it('trace nothing for an unsampled parent, and hand the handler a span that still carries its context', async () => {
    const seen: { traceId?: string; recording?: boolean }[] = [];
    const { exporter, broker, pipeline } = tracedPipeline((_event, ctx) => {
      seen.push({ traceId: ctx.span?.spanContext().traceId, recording: ctx.span?.isRecording() });
    }, 1);
    await pipeline.start();
    await broker.publish('orders', [{ key: 'k', payload: Buffer.from('1'), headers: { traceparent: `00-${TRACE}-${PARENT}-00` } }]);
    await eventually(() => pipeline.stats.completed === 1, 10_000, 'the event');
    await pipeline.stop();
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(seen).toEqual([{ traceId: TRACE, recording: false }]);
  });

  it('end a failed event with ERROR, a dead-letter span, and a dead letter whose traceparent continues the trace', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'sluice-trace-')), 'dlq.jsonl');
    const { exporter, broker, pipeline } = tracedPipeline(
      () => {
        throw Object.assign(new Error('bad order'), { retriable: false });
      },
      1,
      path,
    );
    await pipeline.start();
    await broker.publish('orders', [{ key: 'k', payload: Buffer.from('1') }]);
    await eventually(() => byName(exporter.getFinishedSpans(), 'orders process').length === 1, 10_000, 'the event span');
    const spans = exporter.getFinishedSpans();
    await pipeline.stop();
    const [process] = byName(spans, 'orders process');
    const [deadLetter] = byName(spans, 'dead letter');
    expect(process!.parentSpanContext).toBeUndefined(); // a root: no incoming context, ratio 1
    expect(process!.status.code).toBe(SpanStatusCode.ERROR);
    expect(process!.attributes['sluice.outcome']).toBe('dead-lettered');
    expect(process!.events.map((event) => event.name)).toEqual(['handler.start', 'exception']);
    const line = JSON.parse((await readFile(path, 'utf8')).trim()) as { headers: Record<string, string> };
    const written = parseTraceparent(line.headers.traceparent);
    expect(written).toEqual({ traceId: process!.spanContext().traceId, spanId: deadLetter!.spanContext().spanId, flags: 1 });
  });

  it('record trace_id exemplars for traced events only, and only with tracing.exemplars', async () => {
    const off = tracedPipeline(() => undefined, 1);
    await off.pipeline.start();
    await off.broker.publish('orders', [{ key: 'k', payload: Buffer.from('1') }]);
    await eventually(() => byName(off.exporter.getFinishedSpans(), 'orders process').length === 1, 10_000, 'the event span');
    await off.pipeline.stop();
    expect(off.pipeline.stats.processingSeconds.count).toBe(1);
    expect(off.pipeline.stats.processingSeconds.exemplars).toBeUndefined();

    const { exporter, broker, pipeline } = tracedPipeline(() => undefined, 1, undefined, true);
    await pipeline.start();
    await broker.publish('orders', [{ key: 'k', payload: Buffer.from('1') }]);
    await eventually(() => byName(exporter.getFinishedSpans(), 'orders process').length === 1, 10_000, 'the event span');
    const traceId = byName(exporter.getFinishedSpans(), 'orders process')[0]!.spanContext().traceId;
    await pipeline.stop();
    const exemplars = pipeline.stats.processingSeconds.exemplars?.filter((exemplar) => exemplar !== undefined);
    expect(exemplars?.map((exemplar) => exemplar.traceId)).toEqual([traceId]);
    expect(trace.getSpan(ROOT_CONTEXT)).toBeUndefined();
  });

  it('time traced events on their own among untraced ones run as a burst: spans cover the handler, every event observed', async () => {
    // Half the events sampled, a synchronous handler: untraced events join bursts (one clock read
    // for many, EventProcessor.settle); a traced one ends the burst and has its own clock reads.
    const spinMs = 2;
    const spans: string[] = [];
    const { exporter, broker, pipeline } = tracedPipeline((_event, handlerContext) => {
      if (handlerContext.span?.isRecording()) {
        spans.push(handlerContext.span.spanContext().spanId);
        const until = performance.now() + spinMs;
        while (performance.now() < until);
      }
    }, 0.5);
    await pipeline.start();
    await broker.publish(
      'orders',
      Array.from({ length: 400 }, (_, n) => ({ key: `k${n % 8}`, payload: Buffer.from(String(n)) })),
    );
    await eventually(() => pipeline.stats.processed.success === 400, 10_000, '400 events');
    await eventually(() => byName(exporter.getFinishedSpans(), 'orders process').length === spans.length, 10_000, 'the spans');
    await pipeline.stop();
    expect(spans.length).toBeGreaterThan(100);
    expect(spans.length).toBeLessThan(300);
    const { processingSeconds, endToEndSeconds } = pipeline.stats;
    expect(processingSeconds.count).toBe(400);
    expect(endToEndSeconds.count).toBe(400);
    // Only the traced events spun: they are above 1 ms (and a few others at most: a GC pause or a
    // preempted process makes a no-op slow too), each span at least as long as the spin.
    let slow = 0;
    for (let i = 4; i < processingSeconds.counts.length; i++) slow += processingSeconds.counts[i]!;
    expect(slow).toBeGreaterThanOrEqual(spans.length);
    expect(slow).toBeLessThanOrEqual(spans.length + 5);
    for (const span of byName(exporter.getFinishedSpans(), 'orders process')) {
      const ms = (span.endTime[0] - span.startTime[0]) * 1000 + (span.endTime[1] - span.startTime[1]) / 1e6;
      expect(ms).toBeGreaterThanOrEqual(spinMs);
    }
  });
});
