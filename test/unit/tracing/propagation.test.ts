import { INVALID_SPAN_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { unwrapEnvelope, wrapEnvelope } from '../../../adapters/kinesis/envelope.ts';
import { type HttpEvent, RequestBatch, requestTraceContext } from '../../../adapters/http/http-event.ts';
import { formatTraceparent, inheritTraceContext, injectTraceContext, parseTraceparent } from '../../../src/tracing/propagation.ts';
import { EventSampler } from '../../../src/tracing/sampler.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('traceparent parsing', () => {
  it('reads a valid header, sampled or not', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, spanId: SPAN, flags: 1 });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)).toEqual({ traceId: TRACE, spanId: SPAN, flags: 0 });
  });

  it('ignores what the spec calls invalid, so such an event starts a trace of its own', () => {
    for (const bad of [
      undefined,
      '',
      'garbage',
      `00-${TRACE}-${SPAN}`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `ff-${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    }
  });

  it('reads a future version by its first four fields', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-whatever`)?.traceId).toBe(TRACE);
  });

  it('formats what it parses', () => {
    expect(formatTraceparent(TRACE, SPAN, 1)).toBe(`00-${TRACE}-${SPAN}-01`);
  });
});

describe('injectTraceContext (dead letters, forward)', () => {
  it("writes the span's context over the incoming one, without touching the input", () => {
    const headers = { traceparent: `00-${TRACE}-${'1'.repeat(16)}-01`, tracestate: 'old=1', other: 'x' };
    const span = trace.wrapSpanContext({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      traceState: new TraceState('vendor=abc'),
    });
    const out = injectTraceContext(headers, span);
    expect(out).toEqual({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'vendor=abc', other: 'x' });
    expect(headers.traceparent).toBe(`00-${TRACE}-${'1'.repeat(16)}-01`);
  });

  it('keeps the headers as they are without a valid span (tracing off, untraced event without context)', () => {
    const headers = { traceparent: `00-${TRACE}-${SPAN}-00` };
    expect(injectTraceContext(headers, undefined)).toBe(headers);
    expect(injectTraceContext(headers, trace.wrapSpanContext(INVALID_SPAN_CONTEXT))).toBe(headers);
  });

  it('propagates an unsampled decision as unsampled', () => {
    const span = trace.wrapSpanContext({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.NONE });
    expect(injectTraceContext({}, span).traceparent).toBe(`00-${TRACE}-${SPAN}-00`);
  });
});

describe('sampling: parent based, then a ratio', () => {
  const parent = (flags: number) => ({ traceId: TRACE, spanId: SPAN, flags });
  const lcg = () => {
    let seed = 1;
    return () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
  };

  it('follows an incoming decision whatever the ratio', () => {
    expect(new EventSampler(0, () => 0.99).sample(parent(1))).toBe(true);
    expect(new EventSampler(1, () => 0).sample(parent(0))).toBe(false);
  });

  it('samples events without a parent at the ratio: none at 0, all at 1', () => {
    const none = new EventSampler(0);
    const all = new EventSampler(1);
    for (let i = 0; i < 1_000; i++) {
      expect(none.sample(undefined)).toBe(false);
      expect(all.sample(undefined)).toBe(true);
    }
  });

  it('at 1 %, samples about 1 % with gaps of the geometric law (mean 99, not a fixed stride)', () => {
    const sampler = new EventSampler(0.01, lcg());
    const gaps: number[] = [];
    let last = -1;
    for (let i = 0; i < 1_000_000; i++) {
      if (!sampler.sample(undefined)) continue;
      if (last >= 0) gaps.push(i - last - 1);
      last = i;
    }
    expect(gaps.length).toBeGreaterThan(9_500);
    expect(gaps.length).toBeLessThan(10_500);
    const mean = gaps.reduce((sum, gap) => sum + gap, 0) / gaps.length;
    expect(mean).toBeGreaterThan(95);
    expect(mean).toBeLessThan(103);
    // Geometric: P(gap = 0) = 1 %, and about e^-1 of the gaps exceed 99.
    const zero = gaps.filter((gap) => gap === 0).length / gaps.length;
    expect(zero).toBeGreaterThan(0.006);
    expect(zero).toBeLessThan(0.014);
    const long = gaps.filter((gap) => gap > 99).length / gaps.length;
    expect(long).toBeGreaterThan(0.34);
    expect(long).toBeLessThan(0.39);
  });
});

describe('where the trace context comes from', () => {
  it("Sluice's Kinesis envelope carries traceparent and tracestate through a stream", () => {
    const headers = { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'a=b' };
    expect(unwrapEnvelope(wrapEnvelope(Buffer.from('x'), headers))?.headers).toEqual(headers);
  });

  it("an HTTP request's traceparent is the parent of its events that carry none", () => {
    const request = { headers: { traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'r=1' } };
    const own = `00-${'a'.repeat(32)}-${SPAN}-01`;
    const batch = new RequestBatch(
      [
        { id: undefined, key: undefined, headers: {}, payload: Buffer.from('1') },
        { id: undefined, key: undefined, headers: { traceparent: own }, payload: Buffer.from('2') },
      ],
      'http',
      1,
      Date.now(),
      requestTraceContext(request),
    );
    const [first, second] = batch.events as [HttpEvent, HttpEvent];
    expect(first.headers).toEqual({ traceparent: request.headers.traceparent, tracestate: 'r=1' });
    expect(second.headers).toEqual({ traceparent: own });
    expect(requestTraceContext({ headers: {} })).toBeUndefined();
  });

  it('inheritTraceContext copies nothing when there is nothing to add', () => {
    const headers = { a: 'b' };
    expect(inheritTraceContext(headers, undefined, undefined)).toBe(headers);
  });
});
