// The event-loop model (--model loopUsPerEvent) and the bench's skewed keys: the closed forms
// they must meet. No timings of this machine: the loop cost is an input here.
import { describe, expect, it } from 'vitest';
import { keyOfSeq } from '../../../src/bench/producer.ts';
import { summarize } from '../../../src/simulate/results.ts';
import { runScenario } from '../../../src/simulate/scenario.ts';
import { scenario, simulate } from './helpers.ts';

const memory = (pool: number) => ({
  broker: { type: 'memory' },
  queue: { maxEvents: 10_000 },
  pool: { size: pool },
  handler: { timeoutMs: 0 },
});

describe('simulate: the event loop', () => {
  it('a saturated pool finishes pool / (service + loop cost) events per second', async () => {
    // 4 workers, 2 ms handler + 0.5 ms of loop per event: 1,600/s (2,000/s without the loop).
    const { result } = await simulate({
      config: memory(4),
      workload: 'constant:3000/s',
      service: 'fixed:2ms',
      duration: 20,
      model: ['loopUsPerEvent=500'],
    });
    expect(result.throughput).toBeGreaterThan(1590);
    expect(result.throughput).toBeLessThan(1610);
    expect(result.verdict.keepsUp).toBe(false);
  });

  it('the loop is one server: a large pool still finishes at most 1 / loop cost events per second', async () => {
    const { result } = await simulate({
      config: memory(256),
      workload: 'constant:3000/s',
      service: 'fixed:1ms',
      duration: 20,
      model: ['loopUsPerEvent=500'],
    });
    expect(result.throughput).toBeGreaterThan(1990);
    expect(result.throughput).toBeLessThan(2010);
  });

  it('below saturation the loop adds its cost, and a little waiting, to each event', async () => {
    const off = await simulate({ config: memory(16), workload: 'constant:1000/s', service: 'fixed:2ms', duration: 10 });
    const on = await simulate({
      config: memory(16),
      workload: 'constant:1000/s',
      service: 'fixed:2ms',
      duration: 10,
      model: ['loopUsPerEvent=200'],
    });
    expect(off.result.latencyMs.p50).toBeCloseTo(2, 2);
    expect(on.result.latencyMs.p50).toBeGreaterThanOrEqual(2.19);
    expect(on.result.latencyMs.p50).toBeLessThan(2.3);
  });
});

describe('bench --key-skew', () => {
  it('uniform is round-robin; zipf gives the hot key the share the model draws with, the same key for the same seq', () => {
    const uniform = keyOfSeq(10, 'uniform');
    expect([0, 1, 9, 10, 23].map(uniform)).toEqual([0, 1, 9, 0, 3]);
    const zipf = keyOfSeq(20, 'zipf:1.2');
    const counts = new Array(20).fill(0);
    for (let seq = 0; seq < 100_000; seq++) counts[zipf(seq)]++;
    let total = 0;
    for (let k = 1; k <= 20; k++) total += 1 / k ** 1.2;
    expect(counts[0] / 100_000).toBeCloseTo(1 / total, 2);
    expect(zipf(12_345)).toBe(zipf(12_345));
  });
});

describe('simulate: GC pauses on the loop', () => {
  it('a pause stops every completion behind it: mean latency grows by about rate × pause² / 2 per second of run', async () => {
    // Kafka (records stamped by the producer, not on the consumer's loop): 1,000/s, 2 ms handler,
    // pool 64 (no queueing otherwise); one 50 ms pause per 1,000 events (one a second): 5 % of
    // the time stopped, events arriving in a pause wait on average 25 ms, so the mean grows by
    // about 0.05 × 25 ms = 1.25 ms and p99 lands inside the pauses.
    const kafka = { broker: { type: 'kafka', kafka: { brokers: ['x:1'], topics: ['t'] } }, queue: { maxEvents: 1000 }, pool: { size: 64 } };
    const base = { config: kafka, workload: 'constant:1000/s', service: 'fixed:2ms', duration: 60 };
    const off = await simulate(base);
    const on = await simulate({ ...base, model: ['gcPerEvent=0.001', 'gcPausesMs=50'] });
    expect(on.result.throughput).toBeCloseTo(off.result.throughput, -1);
    expect(on.result.latencyMeanMs - off.result.latencyMeanMs).toBeGreaterThan(0.8);
    expect(on.result.latencyMeanMs - off.result.latencyMeanMs).toBeLessThan(1.8);
    expect(on.result.latencyMs.p99).toBeGreaterThan(20);
    expect(on.result.latencyMs.p50 - off.result.latencyMs.p50).toBeLessThan(0.2);
  });

  it('memory broker: an arrival in a pause is appended (and stamped) after it; the events in flight carry it', async () => {
    // The same pauses: the publisher's append runs on the consumer's loop, so only the events in
    // flight when a pause starts (the one completing and the ~2 started in the last 2 ms) wait
    // it out: ~3-4 × 50 ms per 1,000 events, ~0.2 ms on the mean against 1.25 above.
    const base = { config: memory(64), workload: 'constant:1000/s', service: 'fixed:2ms', duration: 60 };
    const off = await simulate(base);
    const on = await simulate({ ...base, model: ['gcPerEvent=0.001', 'gcPausesMs=50'] });
    expect(on.result.throughput).toBeCloseTo(off.result.throughput, -1);
    expect(on.result.latencyMeanMs - off.result.latencyMeanMs).toBeLessThan(0.3);
    expect(on.result.latencyMeanMs - off.result.latencyMeanMs).toBeGreaterThan(0.01);
    expect(on.result.latencyMs.p99).toBeLessThan(5);
    expect(on.result.latencyMs.max).toBeGreaterThan(40);
  });
});

describe('simulate: chained handler starts', () => {
  it('a worker going straight from one event to the next draws the chained service time, an idle one the delivered', async () => {
    const service = { spec: 'test', mean: 0.001, sample: () => 0.001, sampleChained: () => 0.003 };
    // Idle pool: every event starts on its delivery (1 ms).
    const idle = await scenario({ config: memory(64), workload: 'constant:100/s', service: 'fixed:1ms', duration: 10 });
    const a = runScenario({ ...idle, service });
    expect(summarize(idle, a.engine, a.wallMs).latencyMs.max).toBeCloseTo(1, 1);
    // One worker, always behind: after the first event every start is chained (3 ms): 333/s.
    const busy = await scenario({ config: memory(1), workload: 'constant:1000/s', service: 'fixed:1ms', duration: 10 });
    const b = runScenario({ ...busy, service });
    const result = summarize(busy, b.engine, b.wallMs);
    expect(result.throughput).toBeGreaterThan(330);
    expect(result.throughput).toBeLessThan(337);
  });
});

describe('simulate: a timer handler on the loop’s millisecond ticks', () => {
  it('ends are put on the nearest tick: the mean stays, and completions due in one tick queue for the loop', async () => {
    // 1.3 ms sleeps started every 0.25 ms: without the grid each completion has the loop to
    // itself (0.2 ms each, 0.25 ms apart); on the grid four land in each tick and the last waits 0.6 ms.
    const base = await scenario({
      config: memory(64),
      workload: 'constant:4000/s',
      service: 'fixed:1ms',
      duration: 5,
      model: ['loopUsPerEvent=200'],
    });
    const sleep = { spec: 'timer', mean: 0.0013, sample: () => 0.0013 };
    const free = runScenario({ ...base, service: sleep });
    const ticked = runScenario({ ...base, service: { ...sleep, tick: 0.001 } });
    const off = summarize(base, free.engine, free.wallMs);
    const on = summarize(base, ticked.engine, ticked.wallMs);
    expect(off.latencyMs.max).toBeCloseTo(1.5, 1);
    expect(on.latencyMs.max).toBeGreaterThan(1.9);
    // exactly spaced, ends 1.55, 1.8, 2.05, 2.3 ms all went to tick 2, done at 2.2, 2.4, 2.6, 2.8:
    // mean 1.875 ms; with a timer grid each arrival lands at a random point of its 0.25 ms slot
    // (broker-log.ts slotJitter), so three to five share a tick: the mean is still ~0.2 ms up
    expect(on.latencyMeanMs - off.latencyMeanMs).toBeGreaterThan(0.12);
    expect(on.latencyMeanMs).toBeLessThan(1.95);
    expect(on.throughput).toBeCloseTo(off.throughput, -1);
  });

  it('a chained start keeps its measured duration (it already runs from a tick): one busy worker does 1 / 1.3 ms', async () => {
    // 2,000/s against 769/s: after the first event every start is chained (none rounded to 1 ms)
    const busy = await scenario({ config: memory(1), workload: 'constant:2000/s', service: 'fixed:1ms', duration: 10 });
    const sleep = { spec: 'timer', mean: 0.0013, sample: () => 0.0013, tick: 0.001 };
    const run = runScenario({ ...busy, service: sleep });
    const result = summarize(busy, run.engine, run.wallMs);
    expect(result.throughput).toBeGreaterThan(760);
    expect(result.throughput).toBeLessThan(775);
  });
});
