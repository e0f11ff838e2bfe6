import { describe, expect, it } from 'vitest';
import type { EventSink, SourceEvent } from '../../src/broker/contract.ts';
import {
  Backoff,
  BaseEvent,
  CommitLoop,
  DeliveryLane,
  type EventOwner,
  type KeyOrder,
  Lifecycle,
  PartitionProgress,
  Redelivery,
} from '../../src/source-kit/index.ts';
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

/** An event of partition `partition` with a key and a tracker ticket, as memory and Kafka deliver. */
class KeyedEvent extends BaseEvent<KeyedEvent> implements SourceEvent {
  readonly payload = Buffer.alloc(0);
  readonly headers = {};
  readonly timestamp = 0;
  readonly source = 'test';
  constructor(
    readonly owner: EventOwner<KeyedEvent>,
    readonly progress: PartitionProgress,
    readonly n: number,
    readonly key: string | undefined,
    readonly ticket: number,
    attempt = 1,
  ) {
    super(attempt);
  }
  get id(): string {
    return `${this.progress.partition}@${this.n}`;
  }
  get position() {
    return { partition: this.progress.partition, offset: String(this.n) };
  }
  redelivery(): KeyedEvent {
    return new KeyedEvent(this.owner, this.progress, this.n, this.key, this.ticket, this.attempt + 1);
  }
}

/**
 * The core as far as a source sees it: deliver() queues (resolving at once), a worker `start`s
 * the first queued event, discard() takes queued events back, in no particular order (the
 * pipeline's is queue then set-aside): reversed here, so the kit must restore the order.
 */
function coreSink(maxBatch = 10) {
  const waiting: SourceEvent[] = [];
  const delivered: string[] = [];
  const sink = {
    maxBatch,
    capacity: { events: 100, bytes: 1 << 20 },
    deliver: async (events: SourceEvent[]) => {
      for (const event of events) delivered.push(label(event as KeyedEvent));
      waiting.push(...events);
    },
    discard: (predicate: (event: SourceEvent) => boolean) => {
      const taken = waiting.filter(predicate);
      const stay = waiting.filter((event) => !predicate(event));
      waiting.splice(0, waiting.length, ...stay);
      return taken.reverse();
    },
    fatal: () => undefined,
  } as EventSink;
  const start = (): KeyedEvent => waiting.shift() as KeyedEvent;
  return { sink, waiting, delivered, start };
}

/** `3` for a first delivery, `3#2` for the second attempt; other partitions/keys prefixed. */
const label = (event: KeyedEvent) =>
  `${event.progress.partition === 'p0' && event.key === 'k' ? '' : `${event.progress.partition}/${event.key}:`}${event.n}${event.attempt > 1 ? `#${event.attempt}` : ''}`;
const until = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i++) await tick();
  expect(condition()).toBe(true);
};

describe('source kit: a nacked event stays ahead of its key', () => {
  const keyOrder = (source: object): KeyOrder<KeyedEvent> => ({
    own: (event) => (event instanceof KeyedEvent && event.owner === source ? event : undefined),
    scope: (event) => (event.key === undefined ? undefined : `${event.progress.partition}\u0000${event.key}`),
    sequence: (event) => event.ticket,
  });
  /** Events n = from..to-1 of `progress` with `key(n)`, tracked in order. */
  const read = (o: EventOwner<KeyedEvent>, progress: PartitionProgress, from: number, to: number, key: (n: number) => string | undefined) =>
    Array.from({ length: to - from }, (_, i) => new KeyedEvent(o, progress, from + i, key(from + i), progress.track(String(from + i))));

  it('takes the later events of the partition and key back and delivers them after the nacked one, in order', async () => {
    const { sink, waiting, delivered, start } = coreSink();
    const lane = new DeliveryLane(sink);
    const acks: string[] = [];
    const o: EventOwner<KeyedEvent> = {
      acked: (e) => {
        acks.push(label(e));
        e.progress.complete(e.ticket);
      },
      nacked: (e) => redelivery.nacked(e),
    };
    const redelivery: Redelivery<KeyedEvent> = new Redelivery({ delayMs: 20, wanted: () => true, lane, keyOrder: keyOrder(o) });
    const p0 = new PartitionProgress('p0');
    const p1 = new PartitionProgress('p1');
    // p0: 0..5 of key k, 6 of key j; p1: 0..1 of key k (another partition: another order).
    await lane.run(() =>
      redelivery.admit([...read(o, p0, 0, 6, () => 'k'), ...read(o, p0, 6, 7, () => 'j'), ...read(o, p1, 0, 2, () => 'k')]),
    );
    start().ack();
    start().ack();
    start().nack(); // 2 fails: 3, 4, 5 of p0/k have not started
    expect(waiting.map((e) => label(e as KeyedEvent))).toEqual(['p0/j:6', 'p1/k:0', 'p1/k:1']);
    expect(redelivery.held).toBe(4);
    // Read meanwhile: 7 of p0/k is held behind them, 8 of p0/j and unkeyed 9 go on.
    const more = read(o, p0, 7, 10, (n) => (n === 7 ? 'k' : n === 8 ? 'j' : undefined));
    expect(await lane.run(() => redelivery.admit(more))).toBe(true);
    expect(await lane.run(() => [])).toBe(true); // nothing to deliver now (all held) is no failure
    expect(redelivery.held).toBe(5);
    await until(() => delivered.length === 16);
    expect(delivered.slice(9)).toEqual(['p0/j:8', 'p0/undefined:9', '2#2', '3', '4', '5', '7']);
    expect(redelivery.held + redelivery.size).toBe(0);
    // The taken-back events were never settled: p0's committable offset stayed at 1 until now.
    expect(p0.takeCommittable()).toBe('1');
    for (let event = start(); event; event = start()) event.ack();
    expect(acks.slice(2)).toEqual(['p0/j:6', 'p1/k:0', 'p1/k:1', 'p0/j:8', 'p0/undefined:9', '2#2', '3', '4', '5', '7']);
    expect(p0.takeCommittable()).toBe('9');
  });

  it('takes back again from what waits for delivery when the redelivered event fails again (read loop, no lane)', async () => {
    const { sink, delivered, start } = coreSink(2);
    let woken = 0;
    const o: EventOwner<KeyedEvent> = { acked: () => undefined, nacked: (e) => redelivery.nacked(e) };
    const redelivery: Redelivery<KeyedEvent> = new Redelivery({
      delayMs: 10,
      wanted: () => true,
      ready: () => woken++,
      keyOrder: keyOrder(o),
      sink,
    });
    const p0 = new PartitionProgress('p0');
    await sink.deliver(redelivery.admit(read(o, p0, 0, 4, () => 'k')));
    start().nack(); // 0 fails: 1, 2, 3 come after it
    await until(() => woken === 1);
    // A read loop takes a batch of maxBatch: 0#2 and 1 are delivered, 2 and 3 still wait here.
    await sink.deliver(redelivery.take(sink.maxBatch));
    expect(redelivery.size).toBe(2);
    // New events of the key still queue behind those (the scope is held until they are taken).
    expect(redelivery.admit(read(o, p0, 4, 5, () => 'k'))).toEqual([]);
    woken = 0;
    start().nack(); // 0 fails again: 1 (in the core) and 2, 3, 4 (waiting here) go behind it again
    expect(redelivery.size).toBe(0);
    expect(redelivery.held).toBe(5);
    await until(() => woken === 1);
    await sink.deliver(redelivery.take(10));
    expect(delivered).toEqual(['0', '1', '2', '3', '0#2', '1', '0#3', '1', '2', '3', '4']);
    expect(redelivery.held + redelivery.size).toBe(0);
    expect(redelivery.admit(read(o, p0, 5, 6, () => 'k'))).toHaveLength(1); // the key is free again
  });

  it('drops what it holds on clear (a revoke), and a nack that is no longer wanted', async () => {
    const { sink, delivered, start } = coreSink();
    const lane = new DeliveryLane(sink);
    let wanted = true;
    const o: EventOwner<KeyedEvent> = { acked: () => undefined, nacked: (e) => redelivery.nacked(e) };
    const redelivery: Redelivery<KeyedEvent> = new Redelivery({ delayMs: 10, wanted: () => wanted, lane, keyOrder: keyOrder(o) });
    const p0 = new PartitionProgress('p0');
    await lane.run(() => redelivery.admit(read(o, p0, 0, 3, () => 'k')));
    start().nack();
    expect(redelivery.held).toBe(3);
    redelivery.clear();
    expect(redelivery.held).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(delivered).toEqual(['0', '1', '2']);
    await lane.run(() => redelivery.admit(read(o, p0, 3, 6, () => 'k')));
    wanted = false; // stopped: nothing is delivered again
    start().nack();
    await new Promise((resolve) => setTimeout(resolve, 40));
    await redelivery.drained();
    expect(delivered).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(redelivery.held + redelivery.size).toBe(0);
  });
});
