import { describe, expect, it } from 'vitest';
import { EventSampler } from '../../../src/tracing/sampler.ts';

describe('EventSampler (events without a traceparent)', () => {
  it('traces none at ratio 0 and every one at ratio 1', () => {
    const never = new EventSampler(0);
    const always = new EventSampler(1);
    for (let i = 0; i < 100_000; i++) {
      expect(never.sample(undefined)).toBe(false);
      expect(always.sample(undefined)).toBe(true);
    }
  });

  it('traces the ratio of events, within five standard deviations', () => {
    const sampler = new EventSampler(0.01);
    const n = 1_000_000;
    let traced = 0;
    for (let i = 0; i < n; i++) if (sampler.sample(undefined)) traced++;
    const sd = Math.sqrt(n * 0.01 * 0.99);
    expect(Math.abs(traced - n * 0.01)).toBeLessThan(5 * sd);
  });

  it('counts the gap a draw gives exactly, and a ratio too small for log(1 - ratio) still gives a finite gap', () => {
    // random() = 1 - (1 - 0.05)^10.5: the gap drawn at ratio 0.05 is 10 events.
    let calls = 0;
    const sampler = new EventSampler(0.05, () => (calls++ === 0 ? 1 - 0.95 ** 10.5 : 0.5));
    const passed: boolean[] = [];
    for (let i = 0; i < 11; i++) passed.push(sampler.sample(undefined));
    expect(passed).toEqual([...Array(10).fill(false), true]);
    const tiny = new EventSampler(1e-18, () => 0.5);
    for (let i = 0; i < 1000; i++) expect(tiny.sample(undefined)).toBe(false);
  });
});
