import { describe, expect, it } from 'vitest';
import type { EventSink, SourceEvent } from '../../src/broker/contract.ts';
import { Backoff, BaseEvent, CommitLoop, DeliveryLane, type EventOwner, Lifecycle, Redelivery } from '../../src/source-kit/index.ts';
import { withTimeout } from '../../src/util/with-timeout.ts';

class TestEvent extends BaseEvent<TestEvent> implements SourceEvent {
  readonly key = undefined;
  readonly payload = Buffer.alloc(0);
  readonly headers = {};
  readonly timestamp = 0;
  readonly source = 'test';
  get id(): string {
    return String(this.n);
  }
  get position() {
    return { partition: 'p', offset: String(this.n) };
  }
  constructor(
    private readonly to: EventOwner<TestEvent>,
    readonly n: number,
    attempt = 1,
  ) {
    super(attempt);
  }
  protected get owner(): EventOwner<TestEvent> {
    return this.to;
  }
  redelivery(): TestEvent {
    return new TestEvent(this.to, this.n, this.attempt + 1);
  }
}

/** A sink whose deliveries resolve when the test says so, and which fails if two are pending. */
function manualSink(maxBatch = 10) {
  const batches: number[][] = [];
  const releases: (() => void)[] = [];
  let pending = 0;
  let overlapped = false;
  const sink = {
    maxBatch,
    capacity: { events: maxBatch, bytes: 1 << 20 },
    deliver(events: SourceEvent[]) {
      if (pending > 0) overlapped = true;
      pending++;
      batches.push(events.map((event) => (event as TestEvent).n));
      return new Promise<void>((resolve) =>
        releases.push(() => {
          pending--;
          resolve();
        }),
      );
    },
    discard: () => [],
    fatal: () => undefined,
  } as unknown as EventSink;
  return { sink, batches, releases, overlapped: () => overlapped };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
const owner = () => {
  const seen: string[] = [];
  const o: EventOwner<TestEvent> = { acked: (e) => seen.push(`ack ${e.n}`), nacked: (e) => seen.push(`nack ${e.n}`) };
  return { o, seen };
};

describe('source kit', () => {
  it('settles an event once: the first of ack and nack wins', () => {
    const { o, seen } = owner();
    const event = new TestEvent(o, 1);
    event.nack();
    event.ack();
    event.nack();
    const other = new TestEvent(o, 2);
    other.ack();
    other.ack();
    expect(seen).toEqual(['nack 1', 'ack 2']);
    expect(event.isSettled).toBe(true);
    expect(event.redelivery().attempt).toBe(2);
  });

  it('keeps one delivery pending at a time, in arrival order, and builds at the turn', async () => {
    const { sink, batches, releases, overlapped } = manualSink();
    const lane = new DeliveryLane(sink);
    const { o } = owner();
    const first = lane.run(() => [new TestEvent(o, 1)]);
    let built = false;
    const second = lane.run(() => {
      built = true;
      return [new TestEvent(o, 2)];
    });
    await tick();
    expect(batches).toEqual([[1]]);
    expect(built).toBe(false);
    releases[0]!();
    expect(await first).toBe(true);
    await tick();
    expect(batches).toEqual([[1], [2]]);
    releases[1]!();
    expect(await second).toBe(true);
    expect(overlapped()).toBe(false);
    expect(await lane.run(() => undefined)).toBe(false);
  });

  it('resolves false at once when the signal aborts before the turn, and never delivers it', async () => {
    const { sink, batches, releases } = manualSink();
    const lane = new DeliveryLane(sink);
    const { o } = owner();
    void lane.deliver([new TestEvent(o, 1)]);
    const abort = new AbortController();
    const waiting = lane.deliver([new TestEvent(o, 2)], abort.signal);
    abort.abort();
    expect(await waiting).toBe(false);
    releases[0]!();
    await lane.drained();
    await tick();
    expect(batches).toEqual([[1]]);
  });

  it('delivers a nacked event again after the delay, attempt + 1, unless no longer wanted', async () => {
    const { sink, batches, releases } = manualSink();
    const lane = new DeliveryLane(sink);
    const { o } = owner();
    let wanted = true;
    const redelivery = new Redelivery<TestEvent>({ delayMs: 10, wanted: () => wanted, lane });
    const event = new TestEvent(o, 7) as TestEvent;
    redelivery.nacked(event);
    await tick();
    expect(batches).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(batches).toEqual([[7]]);
    releases[0]!();
    await redelivery.drained();
    wanted = false;
    redelivery.nacked(event);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(batches).toEqual([[7]]);
    // Without a lane: ready() wakes a read loop that takes them.
    let woken = 0;
    const loop = new Redelivery<TestEvent>({ delayMs: 1, wanted: () => true, ready: () => woken++ });
    loop.nacked(event);
    await tick();
    expect(woken).toBe(1);
    expect(loop.take(10).map((e) => e.attempt)).toEqual([2]);
  });

  it('serializes commits: one at a time, in the order asked, and skips ticks while one runs', async () => {
    const order: string[] = [];
    let release!: () => void;
    let running = 0;
    let overlap = false;
    const loop = new CommitLoop({
      intervalMs: 5,
      commit: async (include) => {
        if (running++ > 0) overlap = true;
        order.push(include ? 'filtered' : 'all');
        await new Promise<void>((resolve) => (release = resolve));
        running--;
      },
      failed: () => undefined,
    });
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(order).toEqual(['all']); // later ticks skipped while the first runs
    loop.stop();
    const revoke = loop.commit(() => true);
    release();
    await tick();
    release();
    await revoke;
    const final = loop.finish();
    await tick();
    release();
    await final;
    expect(order).toEqual(['all', 'filtered', 'all']);
    expect(overlap).toBe(false);
  });

  it('memoizes stop and close, stops before closing, and says closed and crashed alike', async () => {
    const calls: string[] = [];
    const lifecycle = new Lifecycle<'running'>('test source', {
      halt: async () => void calls.push('halt'),
      shutdown: async () => void calls.push('shutdown'),
    });
    lifecycle.begin('running');
    expect(() => lifecycle.begin('running')).toThrow('test source already running');
    expect(lifecycle.health('t', () => ({ connected: true, detail: 'ok' }))).toEqual({ connected: true, detail: 'ok' });
    lifecycle.crashed('boom');
    expect(lifecycle.health('t', () => ({ connected: true, detail: 'ok' }))).toEqual({ connected: false, detail: 't: boom' });
    await Promise.all([lifecycle.close(), lifecycle.close(), lifecycle.stop()]);
    expect(calls).toEqual(['halt', 'shutdown']);
    expect(lifecycle.stopped && lifecycle.closed).toBe(true);
    expect(lifecycle.health('t', () => ({ connected: true, detail: 'ok' }))).toEqual({ connected: false, detail: 'closed' });
  });

  it('backs off exponentially with equal jitter, and times out with the error given', async () => {
    const backoff = new Backoff(100, 1000);
    const steps = [backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()];
    const caps = [100, 200, 400, 800, 1000];
    steps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(caps[i]! / 2);
      expect(ms).toBeLessThanOrEqual(caps[i]!);
    });
    expect(backoff.failures).toBe(5);
    backoff.reset();
    expect(backoff.next()).toBeLessThanOrEqual(100);
    await expect(withTimeout(new Promise(() => undefined), 5, 'waiting')).rejects.toThrow('waiting timed out after 5 ms');
    await expect(withTimeout(new Promise(() => undefined), 5, () => new RangeError('late'))).rejects.toThrow(RangeError);
  });
});
