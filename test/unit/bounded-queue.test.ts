import { describe, expect, it } from 'vitest';
import type { SourceEvent } from '../../src/broker/contract.ts';
import { BoundedQueue, type OverflowPolicy } from '../../src/core/bounded-queue.ts';

function event(n: number, size = 10): SourceEvent & { acked: boolean } {
  return {
    id: String(n),
    key: undefined,
    payload: Buffer.alloc(size),
    headers: {},
    timestamp: Date.now(),
    position: { partition: '0', offset: String(n) },
    source: 't',
    attempt: 1,
    acked: false,
    ack() {
      this.acked = true;
    },
    nack() {},
  };
}

function queue(policy: OverflowPolicy, maxEvents = 4, maxBytes = 1000) {
  const dropped: SourceEvent[] = [];
  const q = new BoundedQueue({ maxEvents, maxBytes, policy, onDrop: (e) => dropped.push(e) });
  return { q, dropped };
}

const settled = async (promise: Promise<void>) => {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('BoundedQueue', () => {
  it('block: a batch that does not fit waits until workers start events, then enters in order', async () => {
    const { q, dropped } = queue('block');
    await q.offer([event(1), event(2), event(3)]);
    const waiting = q.offer([event(4), event(5)]);
    expect(await settled(waiting)).toBe(false);
    expect(q.blocked).toBe(true);
    const first = q.shift()!;
    expect(await settled(waiting)).toBe(false); // taken but not started: capacity still held
    q.release(1, first.payload.length);
    expect(await settled(waiting)).toBe(true);
    expect(q.depth).toBe(4);
    expect([q.shift(), q.shift(), q.shift(), q.shift()].map((e) => e!.id)).toEqual(['2', '3', '4', '5']);
    expect(dropped).toHaveLength(0);
  });

  it('bounds bytes as well as events', async () => {
    const { q } = queue('block', 100, 25);
    await q.offer([event(1, 10), event(2, 10)]);
    expect(await settled(q.offer([event(3, 10)]))).toBe(false);
    expect(q.bytes).toBe(20);
  });

  it('admits a batch larger than the whole queue when the queue is empty, so it cannot wait forever', async () => {
    const { q } = queue('block', 2);
    expect(await settled(q.offer([event(1), event(2), event(3)]))).toBe(true);
  });

  it('drop-newest drops (and reports) what does not fit, never blocks', async () => {
    const { q, dropped } = queue('drop-newest', 2);
    await q.offer([event(1), event(2)]);
    expect(await settled(q.offer([event(3), event(4)]))).toBe(true);
    expect(dropped.map((e) => e.id)).toEqual(['3', '4']);
    expect(q.dropped).toBe(2);
    expect(q.depth).toBe(2);
  });

  it('drop-oldest evicts the oldest waiting events to make room', async () => {
    const { q, dropped } = queue('drop-oldest', 3);
    await q.offer([event(1), event(2), event(3)]);
    await q.offer([event(4), event(5)]);
    expect(dropped.map((e) => e.id)).toEqual(['1', '2']);
    expect([q.shift(), q.shift(), q.shift()].map((e) => e!.id)).toEqual(['3', '4', '5']);
  });

  it('drainUnstarted returns waiting events and unblocks pending offers', async () => {
    const { q } = queue('block', 1);
    await q.offer([event(1)]);
    const pending = q.offer([event(2)]);
    const rest = q.drainUnstarted();
    expect(rest.map((e) => e.id)).toEqual(['1', '2']);
    expect(await settled(pending)).toBe(true);
    expect(q.depth).toBe(0);
  });

  it('wakes waiting workers on offer and on close', async () => {
    const { q } = queue('block');
    const woken = q.waitForEvent();
    await q.offer([event(1)]);
    expect(await settled(woken)).toBe(true);
    q.shift();
    const closed = q.waitForEvent();
    q.close();
    expect(await settled(closed)).toBe(true);
  });
});

describe('BoundedQueue.discard', () => {
  it('takes back matching events, ready or in a pending offer, and frees their room', async () => {
    const { q } = queue('block', 3);
    await q.offer([event(1), event(2), event(3)]);
    const pending = q.offer([event(4), event(5)]);
    const removed = q.discard((e) => Number(e.id) % 2 === 1);
    expect(removed.map((e) => e.id).sort()).toEqual(['1', '3', '5']);
    expect(await settled(pending)).toBe(true); // room freed: the rest of the offer got in
    expect([q.shift(), q.shift(), q.shift()].map((e) => e?.id)).toEqual(['2', '4', undefined]);
    expect(q.depth).toBe(2);
  });
});
