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
});
