import { describe, expect, it } from 'vitest';
import { RecentAcks } from '../../adapters/pubsub/recent-acks.ts';

describe('RecentAcks', () => {
  it('remembers an acked id for the window, then forgets it', () => {
    const acks = new RecentAcks(10, 1_000);
    acks.add('a', 0);
    expect(acks.has('a', 999)).toBe(true);
    expect(acks.has('a', 1_000)).toBe(false);
    expect(acks.has('b', 10)).toBe(false);
  });

  it('drops expired ids as new ones come, and the oldest beyond maxIds', () => {
    const acks = new RecentAcks(3, 1_000);
    acks.add('a', 0);
    acks.add('b', 500);
    acks.add('c', 1_200); // a has expired: dropped
    expect(acks.size).toBe(2);
    acks.add('d', 1_300);
    acks.add('e', 1_400); // four ids within the window: b, the oldest, goes
    expect(acks.size).toBe(3);
    expect(acks.has('b', 1_400)).toBe(false);
    expect(['c', 'd', 'e'].every((id) => acks.has(id, 1_400))).toBe(true);
  });

  it('an id acked again is as young as its last ack', () => {
    const acks = new RecentAcks(2, 1_000);
    acks.add('a', 0);
    acks.add('b', 100);
    acks.add('a', 200);
    acks.add('c', 300); // beyond maxIds: b is the oldest now, not a
    expect(acks.has('a', 300)).toBe(true);
    expect(acks.has('b', 300)).toBe(false);
  });

  it('remembers nothing with maxIds 0', () => {
    const acks = new RecentAcks(0, 1_000);
    acks.add('a', 0);
    expect(acks.has('a', 1)).toBe(false);
  });
});
