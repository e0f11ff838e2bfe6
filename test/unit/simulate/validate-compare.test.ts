import { describe, expect, it } from 'vitest';
import { compare, comparisonTable, droppedError, type Figures, relativeError, worst } from '../../../src/simulate/validate-compare.ts';
import type { BrokerRun } from '../../../src/bench/run-broker.ts';
import { benchFigures } from '../../../src/simulate/validate-scenarios.ts';

const figures = (over: Partial<Figures> = {}): Figures => ({
  throughput: 1000,
  p50: 2,
  p99: 10,
  keepsUp: true,
  dropped: 0,
  sent: 15_000,
  ...over,
});

describe('simulate:validate comparison', () => {
  it('relative error is against the measurement, 0 when both are 0, infinite when only the measurement is', () => {
    expect(relativeError(105, 100)).toBeCloseTo(0.05);
    expect(relativeError(95, 100)).toBeCloseTo(0.05);
    expect(relativeError(0, 0)).toBe(0);
    expect(relativeError(1, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it('dropped error is against the measured drops, never against less than 0.1 % of the events sent', () => {
    expect(droppedError(1100, 1000, 15_000)).toBeCloseTo(0.1);
    // 0 measured, 3 predicted out of 15,000 sent: 3 / 15 = 20 %, not infinite.
    expect(droppedError(3, 0, 15_000)).toBeCloseTo(0.2);
    expect(droppedError(0, 0, 15_000)).toBe(0);
  });

  it('marks each goal: throughput 5 %, p50 20 %, p99 30 %, dropped 10 %, keeps up equal', () => {
    const inside = compare('a', figures({ throughput: 1049, p50: 2.39, p99: 12.9 }), figures());
    expect(inside.pass).toEqual({ throughput: true, p50: true, p99: true, dropped: true, keepsUp: true });
    const outside = compare('b', figures({ throughput: 1051, p50: 2.41, p99: 13.1, keepsUp: false, dropped: 20 }), figures());
    expect(outside.pass).toEqual({ throughput: false, p50: false, p99: false, dropped: false, keepsUp: false });
  });

  it('worst takes the largest error per metric, names its scenario, and counts wrong verdicts', () => {
    const a = compare('a', figures({ throughput: 1020, p99: 20 }), figures());
    const b = compare('b', figures({ throughput: 900, keepsUp: false }), figures());
    const w = worst([a, b]);
    expect(w.scenarios).toBe(2);
    expect(w.throughput).toBeCloseTo(0.1);
    expect(w.where.throughput).toBe('b');
    expect(w.p99).toBeCloseTo(1);
    expect(w.where.p99).toBe('a');
    expect(w.keepsUpWrong).toBe(1);
    expect(w.pass).toBe(false);
    expect(worst([compare('c', figures(), figures())]).pass).toBe(true);
    expect(worst([]).pass).toBe(false);
  });

  it('the table has one row per scenario with the misses marked', () => {
    const text = comparisonTable([compare('a', figures({ p50: 3 }), figures())]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^a\s/);
    expect(lines[2]).toContain('50.0% ✗');
  });
});

describe('validate: the bench side', () => {
  const run = (series: { t: number; backlog: number }[]) =>
    ({
      workload: { warmupS: 3, durationS: 12 },
      series: series.map((p) => ({ ...p, sent: 0, confirmed: 0, delivered: 0 })),
      throughput: 930,
      latencyMs: { p50: 5000, p99: 9000 },
      delivery: { lost: 0 },
      sent: 22_500,
    }) as unknown as BrokerRun;

  it('keeps up is read from the sample at the end of the window, never from the drain’s result', () => {
    // the sampler's last tick rounded to 14: the drain's point (backlog 0) is numbered 15
    const late = benchFigures(
      run([
        { t: 13, backlog: 7_000 },
        { t: 14, backlog: 7_600 },
        { t: 15, backlog: 0 },
      ]),
      1500,
      1000,
    );
    expect(late.keepsUp).toBe(false);
    const onTime = benchFigures(
      run([
        { t: 14, backlog: 7_600 },
        { t: 15, backlog: 8_100 },
        { t: 16, backlog: 0 },
      ]),
      1500,
      1000,
    );
    expect(onTime.keepsUp).toBe(false);
    const keptUp = benchFigures(
      run([
        { t: 14, backlog: 20 },
        { t: 15, backlog: 10 },
        { t: 16, backlog: 0 },
      ]),
      1500,
      1000,
    );
    expect(keptUp.keepsUp).toBe(true);
  });
});
