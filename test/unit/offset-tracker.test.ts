import { describe, expect, it } from 'vitest';
import { OffsetTracker, PartitionProgress } from '../../src/source-kit/offset-tracker.ts';

describe('PartitionProgress', () => {
  it('commits only up to the highest contiguous completed offset under out-of-order completion', () => {
    const progress = new PartitionProgress('p0');
    const tickets = ['10', '11', '15', '16', '20'].map((offset) => progress.track(offset));
    progress.complete(tickets[1]!);
    progress.complete(tickets[3]!);
    expect(progress.committable).toBeUndefined();
    progress.complete(tickets[0]!);
    expect(progress.committable).toBe('11');
    progress.complete(tickets[2]!);
    expect(progress.committable).toBe('16');
    expect(progress.pending).toBe(1);
    progress.complete(tickets[4]!);
    expect(progress.committable).toBe('20');
    expect(progress.idle).toBe(true);
  });

  it('reports a moved position once, so idle partitions are not committed again', () => {
    const progress = new PartitionProgress('p0');
    progress.complete(progress.track('1'));
    expect(progress.takeCommittable()).toBe('1');
    expect(progress.takeCommittable()).toBeUndefined();
    progress.complete(progress.track('2'));
    expect(progress.takeCommittable()).toBe('2');
  });

  it('ignores duplicate completions and tickets from before a reset', () => {
    const progress = new PartitionProgress('p0');
    const old = progress.track('5');
    progress.reset('4');
    expect(progress.committable).toBe('4');
    const fresh = progress.track('5');
    progress.complete(old);
    expect(progress.committable).toBe('4');
    progress.complete(fresh);
    progress.complete(fresh);
    expect(progress.committable).toBe('5');
    expect(progress.takeCommittable()).toBe('5');
  });

  it('tracks bigint offsets (as @platformatic/kafka hands them) and reports positions as text, each once', () => {
    const progress = new PartitionProgress('p0');
    const tickets = [9_007_199_254_740_993n, 9_007_199_254_740_994n].map((offset) => progress.track(offset));
    progress.complete(tickets[1]!);
    expect(progress.committable).toBeUndefined();
    progress.complete(tickets[0]!);
    // Beyond 2^53: the text is exact, not a rounded number.
    expect(progress.committable).toBe('9007199254740994');
    expect(progress.takeCommittable()).toBe('9007199254740994');
    expect(progress.takeCommittable()).toBeUndefined();
    progress.complete(progress.track(9_007_199_254_740_995n));
    expect(progress.takeCommittable()).toBe('9007199254740995');
  });

  it('agrees with a plain model while its ring wraps and grows under random out-of-order completion', () => {
    const progress = new PartitionProgress('p0');
    let seed = 7;
    const random = () => {
      seed = (seed * 48_271) % 2_147_483_647; // Park–Miller: deterministic, exact in doubles
      return seed / 2_147_483_647;
    };
    const offsets: number[] = []; // by ticket (a fresh progress issues 0, 1, 2, …)
    const open: number[] = [];
    const completed = new Set<number>();
    let head = 0; // the model: first ticket not completed
    let offset = 0;
    for (let step = 0; step < 20_000; step++) {
      // Bursts of up to ~300 in flight (several growths of the 64-slot ring), then drains.
      if (open.length < 300 && random() < 0.55) {
        offset += 1 + Math.floor(random() * 3); // gaps, as compacted topics have
        const ticket = progress.track(String(offset));
        expect(ticket).toBe(offsets.length);
        offsets.push(offset);
        open.push(ticket);
        continue;
      }
      if (open.length === 0) continue;
      const [ticket] = open.splice(Math.floor(random() * Math.min(open.length, 20)), 1);
      progress.complete(ticket!);
      progress.complete(ticket!); // idempotent
      completed.add(ticket!);
      while (completed.has(head)) head++;
      expect(progress.committable).toBe(head === 0 ? undefined : String(offsets[head - 1]));
      expect(progress.pending).toBe(open.length);
      expect(progress.completed).toBe(head);
    }
  });

  it('keeps correct positions across internal compaction of a long run', () => {
    const progress = new PartitionProgress('p0');
    const tickets: number[] = [];
    for (let i = 0; i < 10_000; i++) tickets.push(progress.track(String(i)));
    // Complete in reverse pairs so completion is never in order.
    for (let i = 0; i < 10_000; i += 2) {
      progress.complete(tickets[i + 1]!);
      progress.complete(tickets[i]!);
    }
    expect(progress.committable).toBe('9999');
    const next = progress.track('10000');
    progress.complete(next);
    expect(progress.committable).toBe('10000');
  });
});

describe('OffsetTracker', () => {
  it('tracks partitions independently and reports what moved', () => {
    const tracker = new OffsetTracker();
    const a = tracker.partition('a');
    const b = tracker.partition('b');
    const a1 = a.track('1');
    b.track('7');
    a.complete(a1);
    expect(tracker.idle(['a'])).toBe(true);
    expect(tracker.idle()).toBe(false);
    expect([...tracker.takeCommittable()]).toEqual([['a', '1']]);
    tracker.remove('b');
    expect(tracker.has('b')).toBe(false);
    expect(tracker.idle()).toBe(true);
  });
});

describe('PartitionProgress timestamps', () => {
  it('gives the broker timestamp of the oldest pending event, per stamped batch', () => {
    const progress = new PartitionProgress('p0');
    const first = ['1', '2', '3'].map((offset) => progress.track(offset));
    progress.stamp(first[0]!, 3, (i) => 1000 + i);
    const second = ['4', '5'].map((offset) => progress.track(offset));
    progress.stamp(second[0]!, 2, (i) => 2000 + i);
    expect(progress.oldestPendingTimestamp).toBe(1000);
    progress.complete(first[1]!); // out of order: the first one still waits
    expect(progress.oldestPendingTimestamp).toBe(1000);
    progress.complete(first[0]!);
    expect(progress.oldestPendingTimestamp).toBe(1002);
    progress.complete(first[2]!);
    expect(progress.oldestPendingTimestamp).toBe(2000);
    for (const ticket of second) progress.complete(ticket);
    expect(progress.oldestPendingTimestamp).toBeUndefined();
    expect([progress.tracked, progress.completed]).toEqual([5, 5]);
  });

  // A stamp's `at` closes over its batch's records, whose payloads point into the client's fetch
  // buffers: kept after the batch finished, they are promoted out of the young generation and the
  // garbage collector costs more than the rest of Sluice's per-event work.
  it('keeps no finished batch alive: neither once the partition is idle nor behind a pending one', async () => {
    const setFlags = (await import('node:v8')).setFlagsFromString;
    setFlags('--expose-gc');
    const gc = (await import('node:vm')).runInNewContext('gc') as () => void;
    const progress = new PartitionProgress('p0');
    const stampBatch = (size: number) => {
      const records = Array.from({ length: size }, (_, i) => ({ timestamp: 1000 + i, payload: Buffer.alloc(1024) }));
      const tickets = records.map((_, i) => progress.track(String(i)));
      progress.stamp(tickets[0]!, size, (i) => records[i]!.timestamp);
      return { tickets, records: new WeakRef(records) };
    };
    const idle = stampBatch(100);
    for (const ticket of idle.tickets) progress.complete(ticket); // the partition is idle now
    const finished = stampBatch(100);
    const pending = stampBatch(10); // in flight: its records must stay
    for (const ticket of finished.tickets) progress.complete(ticket);
    const next = stampBatch(5); // the first stamp after `finished` finished, behind `pending`
    await new Promise((resolve) => setTimeout(resolve, 0)); // WeakRefs hold their target until the job ends
    gc();
    expect(idle.records.deref()).toBeUndefined();
    expect(finished.records.deref()).toBeUndefined();
    expect(pending.records.deref()).toBeDefined();
    expect(next.records.deref()).toBeDefined();
    expect(progress.oldestPendingTimestamp).toBe(1000);
  });

  it('forgets finished batches as new ones are stamped, and everything on reset', () => {
    const progress = new PartitionProgress('p0');
    for (let batch = 0; batch < 1000; batch++) {
      const ticket = progress.track(String(batch));
      progress.stamp(ticket, 1, () => batch);
      progress.complete(ticket);
    }
    expect((progress as unknown as { stamps: unknown[] }).stamps.length).toBeLessThan(200);
    const pending = progress.track('1000');
    progress.stamp(pending, 1, () => 1000);
    expect(progress.oldestPendingTimestamp).toBe(1000);
    progress.reset('999');
    expect(progress.oldestPendingTimestamp).toBeUndefined();
  });
});
