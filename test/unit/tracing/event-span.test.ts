// Sluice's own recording span (the handler's context.span) and the flat form its records take to
// the export thread: what a handler does to the span must reach the exported span unchanged.
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { EventSpan } from '../../../src/tracing/event-span.ts';
import { decodeSpans, encodeSpan } from '../../../src/tracing/span-codec.ts';
import type { SpanRecord } from '../../../src/tracing/span-record.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

function recorded(build: (span: EventSpan) => void, parent = true): SpanRecord {
  const ended: SpanRecord[] = [];
  const span = new EventSpan(
    { ended: (record) => ended.push(record) },
    'orders process',
    SpanKind.CONSUMER,
    parent
      ? { traceId: TRACE, spanId: PARENT, traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: new TraceState('k=v') }
      : undefined,
    1_700_000_000_000.5,
    { 'messaging.system': 'kafka', 'sluice.attempt': 1 },
  );
  build(span);
  expect(ended.length).toBe(1);
  return ended[0]!;
}

describe('EventSpan', () => {
  it('continues its parent trace, records what the handler adds, and ends once', () => {
    const record = recorded((span) => {
      expect(span.isRecording()).toBe(true);
      span.setAttribute('order.id', 'o-1').setAttributes({ 'order.lines': 3, skipped: undefined });
      span.addEvent('validated', { rules: 12 });
      span.recordException(new TypeError('bad total'));
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'bad total' });
      span.updateName('orders validate');
      span.end();
      span.end(); // a second end is ignored
      span.setAttribute('late', true); // and so is anything after the end
      expect(span.isRecording()).toBe(false);
    });
    expect(record).toMatchObject({
      traceId: TRACE,
      parentSpanId: PARENT,
      parentRemote: true,
      traceState: 'k=v',
      name: 'orders validate',
      kind: SpanKind.CONSUMER,
      start: 1_700_000_000_000.5,
      attributes: { 'messaging.system': 'kafka', 'sluice.attempt': 1, 'order.id': 'o-1', 'order.lines': 3 },
      status: { code: SpanStatusCode.ERROR, message: 'bad total' },
    });
    expect(record.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(record.spanId).not.toBe('0000000000000000');
    expect(record.end).toBeGreaterThanOrEqual(record.start);
    expect('late' in record.attributes).toBe(false);
    expect(record.events.map((event) => event.name)).toEqual(['validated', 'exception']);
    expect(record.events[1]!.attributes).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'bad total' });
  });

  it('starts a new trace without a parent, with distinct random ids', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const record = recorded((span) => span.end(), false);
      expect(record.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(record.parentSpanId).toBeUndefined();
      ids.add(record.traceId);
    }
    expect(ids.size).toBe(1000);
  });

  it('caps attributes and events as the SDK does, counting what it drops', () => {
    const record = recorded((span) => {
      for (let i = 0; i < 200; i++) span.setAttribute(`a${i}`, i);
      for (let i = 0; i < 200; i++) span.addEvent(`e${i}`);
      span.end();
    });
    expect(Object.keys(record.attributes).length).toBe(128);
    expect(record.droppedAttributesCount).toBe(200 + 2 - 128);
    expect(record.events.length).toBe(128);
    expect(record.droppedEventsCount).toBe(72);
  });
});

describe('span records on their way to the export thread', () => {
  it('decode to what was encoded: known and unknown names, links, trace state, empty fields', () => {
    const records = [
      recorded((span) => {
        span.addEvent('handler.start');
        span.addEvent('custom', { list: ['a', 'b'], n: 1.5, ok: false });
        span.addLink({ context: { traceId: TRACE, spanId: PARENT, traceFlags: 1 }, attributes: { why: 'batch' } });
        span.setAttribute('sluice.outcome', 'processed');
        span.end();
      }),
      recorded((span) => span.end(), false),
    ];
    const flat: unknown[] = [];
    for (const record of records) encodeSpan(flat as never, record);
    expect(flat.every((value) => value === null || typeof value !== 'object' || Array.isArray(value))).toBe(true);
    const decoded = decodeSpans(structuredClone(flat));
    expect(decoded).toEqual(
      records.map((record) => ({
        ...record,
        links: record.links.map((link) => ({ ...link, traceState: undefined })),
        parentRemote: record.parentRemote || undefined,
        events: record.events.map((event) => ({ ...event, attributes: event.attributes })),
      })),
    );
  });
});
