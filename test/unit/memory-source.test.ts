import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../adapters/memory/memory-broker.ts';
import type { SourceEvent } from '../../src/broker/contract.ts';
import { eventually, memoryPipeline, numbered } from './helpers.ts';

describe('memory broker and source', () => {
  it('keeps the headers a record was published with, whatever the publisher does to its object afterwards', async () => {
    const broker = new MemoryBroker();
    const seen: SourceEvent[] = [];
    const { pipeline } = memoryPipeline(broker, (event) => {
      seen.push(event);
    });
    await pipeline.start();
    const headers: Record<string, string> = { tenant: 'a' };
    await broker.publish('events', [{ key: 'k', payload: Buffer.from('1'), headers }]);
    headers.tenant = 'b'; // a publisher reusing its object
    headers.extra = 'x';
    await broker.publish('events', [{ key: 'k', payload: Buffer.from('2') }]);
    await eventually(() => seen.length === 2, 5_000, 'both events');
    await pipeline.stop();
    expect(seen[0]!.headers).toEqual({ tenant: 'a' });
    expect(seen[1]!.headers).toEqual({});
    // What was published cannot be changed through an event either.
    expect(() => {
      (seen[0]!.headers as Record<string, string>).tenant = 'c';
    }).toThrow(TypeError);
  });

  it('lets the event loop turn while it drains a backlog through a synchronous handler', async () => {
    const broker = new MemoryBroker();
    let processed = 0;
    const { pipeline } = memoryPipeline(broker, () => {
      processed++;
    });
    const total = 200_000;
    for (let from = 0; from < total; from += 10_000) await broker.publish('events', numbered(10_000, 10, from));
    // Each turn of the event loop (a macrotask) notes how far the drain was.
    const turns: number[] = [];
    let turning = true;
    const turn = () => {
      turns.push(processed);
      if (turning) setImmediate(turn);
    };
    await pipeline.start();
    setImmediate(turn);
    await eventually(() => processed === total, 60_000, 'the backlog drained');
    turning = false;
    await pipeline.stop();
    // Timers, sockets (/metrics, /health) and worker threads' messages ran during the drain, not only after it.
    expect(turns.some((at) => at > 0 && at < total)).toBe(true);
  });
});
