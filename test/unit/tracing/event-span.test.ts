// Sluice's own recording span (the handler's context.span) and the flat form its records take to
// the export thread: what a handler does to the span must reach the exported span unchanged.
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import type { SourceEvent } from '../../../src/broker/contract.ts';
import { EventSpan } from '../../../src/tracing/event-span.ts';
import type { SpanRecord } from '../../../src/tracing/span-record.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

/** The event an event span is about: its attributes are read from it when the span ends. */
const EVENT = {
  id: 'p0@41',
  key: undefined,
  payload: Buffer.alloc(0),
  headers: {},
  timestamp: 0,
  position: { partition: 'p0', offset: '41' },
  source: 'orders',
  attempt: 1,
  ack: () => undefined,
  nack: () => undefined,
} satisfies SourceEvent;

function spanOf(ended: EventSpan[], parent: boolean): EventSpan {
  return new EventSpan(
    { ended: (span) => ended.push(span) },
    undefined,
    SpanKind.CONSUMER,
    parent
      ? { traceId: TRACE, spanId: PARENT, traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: new TraceState('k=v') }
      : undefined,
    1_700_000_000_000.5,
    { system: 'kafka', event: EVENT },
  );
}

function recorded(build: (span: EventSpan) => void, parent = true): SpanRecord {
  const ended: EventSpan[] = [];
  build(spanOf(ended, parent));
  expect(ended.length).toBe(1);
  return ended[0]!.toRecord();
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
      attributes: {
        'messaging.system': 'kafka',
        'messaging.destination.name': 'orders',
        'messaging.destination.partition.id': 'p0',
        'messaging.message.id': 'p0@41',
        'sluice.offset': '41',
        'sluice.attempt': 1,
        'order.id': 'o-1',
        'order.lines': 3,
      },
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
      expect(record.traceId).not.toBe('0'.repeat(32));
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
    // The origin's 7 attributes and the tracer's 2 (unset here) count toward the 128.
    expect(Object.keys(record.attributes).length).toBe(7 + 128 - 9);
    expect(record.droppedAttributesCount).toBe(200 + 9 - 128);
    expect(record.events.length).toBe(128);
    expect(record.droppedEventsCount).toBe(72);
  });
});
