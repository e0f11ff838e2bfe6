// Sluice's own recording span (the handler's context.span) and the flat form its records take to
// the export thread: what a handler does to the span must reach the exported span unchanged.
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { SourceEvent } from '../../../src/broker/contract.ts';
import { EventSpan } from '../../../src/tracing/event-span.ts';
import { decodeSpans, SpanBatchWriter } from '../../../src/tracing/span-codec.ts';
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

/** Ids as hex, whether a record carries them as hex or as bytes (decoded on the export thread). */
const hex = (id: string | Uint8Array) => (typeof id === 'string' ? id : Buffer.from(id).toString('hex'));

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
      ids.add(hex(record.traceId));
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

describe('span records on their way to the export thread', () => {
  it('decode to what was encoded: origin, tracer fields, what a handler added, links, trace state, empty fields', async () => {
    const ended: EventSpan[] = [];
    const traced = spanOf(ended, true);
    traced.handlerStart = 1_700_000_000_001.25;
    traced.handlerAttempts = 2;
    traced.outcome = 'processed';
    traced.addEvent('custom', { list: ['a', 'b'], n: 1.5, ok: false });
    traced.addLink({ context: { traceId: TRACE, spanId: PARENT, traceFlags: 1 }, attributes: { why: 'batch' } });
    traced.setAttribute('sluice.attempt', 7); // set through the API: wins over the origin's
    traced.end();
    spanOf(ended, false).end();
    const child = new EventSpan(
      { ended: (span) => ended.push(span) },
      'dead letter',
      SpanKind.PRODUCER,
      traced.spanContext(),
      1_700_000_000_002,
    );
    child.end();
    const writer = new SpanBatchWriter();
    for (const span of ended) writer.write(span);
    const batch = writer.take();
    expect(batch.count).toBe(3);
    expect(writer.count).toBe(0);
    // As the export thread gets it: the buffer transferred, the side entries (what the handler added) cloned.
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<typeof batch>((resolve) => port2.once('message', resolve));
    port1.postMessage(batch, [batch.buffer]);
    const crossed = await received;
    port1.close();
    expect(batch.buffer.byteLength).toBe(0); // transferred, not copied
    const decoded = decodeSpans(crossed).map((record) => ({ ...record, traceId: hex(record.traceId), spanId: hex(record.spanId) }));
    const expected = ended.map((span) => span.toRecord());
    expect(expected[0]!.attributes).toMatchObject({ 'sluice.attempt': 7, 'sluice.handler.attempts': 2, 'sluice.outcome': 'processed' });
    expect(expected[0]!.events.map((event) => event.name)).toEqual(['handler.start', 'custom']);
    expect(expected[2]!.parentSpanId).toBe(hex(expected[0]!.spanId));
    expect(expected[2]!.traceId).toBe(TRACE);
    expect(decoded).toEqual(
      expected.map((record) => ({
        ...record,
        links: record.links.map((link) => ({ ...link, traceState: undefined })),
        parentRemote: record.parentRemote || undefined,
        events: record.events.map((event) => ({ ...event, attributes: event.attributes })),
      })),
    );
  });

  it('carry non-ASCII names and ids as UTF-8', () => {
    const ended: EventSpan[] = [];
    const event = { ...EVENT, id: 'café@1', source: 'commandes-été', position: { partition: 'p-ü', offset: '1' } };
    new EventSpan({ ended: (span) => ended.push(span) }, undefined, SpanKind.CONSUMER, undefined, 1, { system: 'kafka', event }).end(2);
    const writer = new SpanBatchWriter();
    writer.write(ended[0]!);
    const [record] = decodeSpans(writer.take());
    expect(record!.name).toBe('commandes-été process');
    expect(record!.attributes).toMatchObject({
      'messaging.destination.name': 'commandes-été',
      'messaging.message.id': 'café@1',
      'messaging.destination.partition.id': 'p-ü',
    });
  });
});
