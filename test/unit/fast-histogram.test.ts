import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS, FastHistogram } from '../../src/util/fast-histogram.ts';

describe('FastHistogram', () => {
  it('counts each value in the first bucket whose bound is at least the value (le), the rest in +Inf', () => {
    const histogram = new FastHistogram(DURATION_BUCKETS);
    const values = [0, 0.00005, ...DURATION_BUCKETS, ...DURATION_BUCKETS.map((bound) => bound * 1.0001), 61, 1e9, Number.NaN];
    for (const value of values) histogram.observe(value);
    const expected = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
    for (const value of values) {
      let i = 0;
      while (i < DURATION_BUCKETS.length && value > DURATION_BUCKETS[i]!) i++;
      expected[i]!++;
    }
    expect([...histogram.counts]).toEqual(expected);
    expect(histogram.count).toBe(values.length);
  });

  it('counts the same whatever the order of the values (the previous bucket is tried first)', () => {
    // Runs in one bucket, steps across a bound, equal to a bound, then far away and back.
    const values = [0.00001, 0.00002, 0.0001, 0.00010001, 0.0002, 0.00025, 5, 4.9, 5.0001, 60, 61, 61, 0, Number.NaN, 1e9, 0.0001];
    let state = 7;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return (state / 2 ** 31) * 70;
    };
    for (let i = 0; i < 200; i++) values.push(random() ** 2 / 100);
    const histogram = new FastHistogram(DURATION_BUCKETS);
    const expected = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
    for (const value of values) {
      let i = 0;
      while (i < DURATION_BUCKETS.length && value > DURATION_BUCKETS[i]!) i++;
      expected[i]!++;
      expect(histogram.observe(value)).toBe(i);
    }
    expect([...histogram.counts]).toEqual(expected);
  });
});
