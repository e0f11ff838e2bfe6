import { TraceFlags, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { compileDestination, UnroutableEventError } from '../../../src/bridge/destination-template.ts';
import { headersFor, keyFrom } from '../../../src/bridge/outgoing.ts';
import { PublishBatcher } from '../../../src/bridge/publish-batcher.ts';
import type { OutgoingEvent, SourceEvent } from '../../../src/broker/contract.ts';
import { deadLetterHeaders } from '../../../src/dead-letter/dead-letter.ts';
import { isRetriable, SluiceError } from '../../../src/errors.ts';
import type { HandlerContext } from '../../../src/handler/handler.ts';
import { silent, sleep } from '../helpers.ts';

function event(overrides: Partial<SourceEvent> = {}): SourceEvent {
  return {
    id: 'e1',
    key: 'k1',
    payload: Buffer.from('p'),
    headers: { traceparent: '00-abc-def-01', tenant: 'acme' },
    timestamp: 0,
    position: { partition: 'orders/0', offset: '7' },
    source: 'orders',
    attempt: 1,
    ack: () => undefined,
    nack: () => undefined,
    ...overrides,
  };
}
const context: HandlerContext = { attempt: 1, broker: 'memory', logger: silent };

describe('destination templates', () => {
  it('fills in {key}, {source} and {header.<name>}', () => {
    expect(compileDestination('orders')(event())).toBe('orders');
    expect(compileDestination('orders-{key}')(event())).toBe('orders-k1');
    expect(compileDestination('{source}.copy')(event())).toBe('orders.copy');
    expect(compileDestination('{header.tenant}-{source}-{key}')(event())).toBe('acme-orders-k1');
  });

  it('refuses an event it cannot route with a non-retriable error (dead-lettered at once)', () => {
    const route = compileDestination('orders-{key}');
    for (const bad of [event({ key: undefined }), event({ key: '' })]) {
      let thrown: unknown;
      try {
        route(bad);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UnroutableEventError);
      expect(isRetriable(thrown)).toBe(false);
      expect((thrown as Error).message).toContain('no key');
    }
    expect(() => compileDestination('{header.region}')(event())).toThrow(/no header region/);
  });

  it('rejects a template it does not understand when compiled', () => {
    expect(() => compileDestination('orders-{id}')).toThrow(/unknown placeholder \{id\}/);
    expect(() => compileDestination('orders-{key')).toThrow(/unclosed/);
    expect(() => compileDestination('orders}')).toThrow(/without/);
    expect(() => compileDestination('{header.}')).toThrow(/unknown placeholder/);
  });
});

describe('keys and headers of a forwarded event', () => {
  it('takes the key from the event, a header, or none', () => {
    expect(keyFrom('key')(event())).toBe('k1');
    expect(keyFrom('none')(event())).toBeUndefined();
    expect(keyFrom('header:tenant')(event())).toBe('acme');
    expect(keyFrom('header:missing')(event())).toBeUndefined();
  });

  it('keeps the headers (traceparent passes through) or drops them', () => {
    expect(headersFor(event(), context, { headers: 'keep', unwrapDeadLetters: false })).toEqual({
      traceparent: '00-abc-def-01',
      tenant: 'acme',
    });
    expect(headersFor(event(), context, { headers: 'drop', unwrapDeadLetters: false })).toBeUndefined();
  });

  it("writes the event's span as the traceparent when tracing is on (the destination continues the trace)", () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const span = trace.wrapSpanContext({ traceId, spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED });
    expect(headersFor(event(), { ...context, span }, { headers: 'keep', unwrapDeadLetters: false })).toEqual({
      traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      tenant: 'acme',
    });
    expect(headersFor(event(), { ...context, span }, { headers: 'drop', unwrapDeadLetters: false })).toBeUndefined();
  });

  it('restores the original headers of a dead letter', () => {
    const original = event();
    const deadLetter = event({ headers: deadLetterHeaders(original, new Error('boom'), 3), source: 'orders.dlq' });
    expect(Object.keys(deadLetter.headers).length).toBeGreaterThan(2);
    expect(headersFor(deadLetter, context, { headers: 'keep', unwrapDeadLetters: true })).toEqual(original.headers);
  });
});

describe('PublishBatcher', () => {
  const outgoing = (n: number, key = `k${n % 3}`): OutgoingEvent => ({ key, payload: Buffer.from(String(n)) });

  it('coalesces concurrent calls per destination, in call order, each settling with its batch', async () => {
    const batches: [string, number[]][] = [];
    const batcher = new PublishBatcher(
      async (destination, events) => {
        await sleep(1);
        batches.push([destination, events.map((e) => Number(e.payload.toString()))]);
      },
      { maxEvents: 4, lingerMs: 20 },
    );
    const calls = Array.from({ length: 10 }, (_, n) => batcher.add(n % 2 === 0 ? 'even' : 'odd', outgoing(n)));
    await Promise.all(calls);
    expect(batches).toEqual([
      ['even', [0, 2, 4, 6]],
      ['odd', [1, 3, 5, 7]],
      ['even', [8]],
      ['odd', [9]],
    ]);
    await batcher.close();
  });

  it('sends at once when every caller the pool can have is waiting, without lingering', async () => {
    const sizes: number[] = [];
    const batcher = new PublishBatcher(
      async (_, events) => {
        sizes.push(events.length);
      },
      { maxEvents: 1000, lingerMs: 60_000, concurrency: 5 },
    );
    await Promise.all(Array.from({ length: 5 }, (_, n) => batcher.add('d', outgoing(n))));
    expect(sizes).toEqual([5]);
    await batcher.close();
  });

  it('rejects every caller of a failed batch with the publish error, retriable flag intact', async () => {
    let fail = true;
    const batcher = new PublishBatcher(
      async () => {
        if (fail) throw new SluiceError('broker said no', { retriable: true });
      },
      { maxEvents: 10, lingerMs: 1 },
    );
    const results = await Promise.allSettled([batcher.add('d', outgoing(1)), batcher.add('d', outgoing(2))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(isRetriable((results[0] as PromiseRejectedResult).reason)).toBe(true);
    fail = false;
    await expect(batcher.add('d', outgoing(3))).resolves.toBeUndefined();
    await batcher.close();
  });

  it('close sends what is open, waits for it, then refuses more', async () => {
    const sent: number[] = [];
    let confirm: () => void = () => undefined;
    const batcher = new PublishBatcher(
      async (_, events) => {
        await new Promise<void>((resolve) => (confirm = resolve));
        sent.push(...events.map((e) => Number(e.payload.toString())));
      },
      { maxEvents: 10, lingerMs: 60_000 },
    );
    const call = batcher.add('d', outgoing(1));
    const closed = batcher.close();
    await sleep(5);
    expect(sent).toEqual([]);
    confirm();
    await closed;
    await call;
    expect(sent).toEqual([1]);
    await expect(batcher.add('d', outgoing(2))).rejects.toThrow(/closed/);
  });
});

describe('PublishBatcher with a poison event', () => {
  it('splits a batch refused for good, so only the event at fault fails and the others are published in order', async () => {
    const published: number[] = [];
    const batcher = new PublishBatcher(
      async (_, events) => {
        if (events.some((e) => e.payload.toString() === 'poison')) throw new SluiceError('record too large', { retriable: false });
        published.push(...events.map((e) => Number(e.payload.toString())));
      },
      { maxEvents: 10, lingerMs: 60_000, concurrency: 4 },
    );
    const payloads = ['1', 'poison', '2', '3'];
    const results = await Promise.allSettled(payloads.map((p) => batcher.add('d', { key: 'k', payload: Buffer.from(p) })));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(isRetriable((results[1] as PromiseRejectedResult).reason)).toBe(false);
    expect(published).toEqual([1, 2, 3]);
    await batcher.close();
  });
});
