// Kafka's per-fetch loop cost (--model loopUsPerFetch), fetch.minBytes above one record, and
// the calibration's split of the loop's time into per-fetch and per-event parts. Closed forms
// only: the costs are inputs here, no timings of this machine.
import { describe, expect, it } from 'vitest';
import type { KafkaDelivery } from '../../../src/simulate/delivery-kafka.ts';
import { runScenario } from '../../../src/simulate/scenario.ts';
import { splitLoopCost } from '../../../src/simulate/validate-calibrate.ts';
import { fetchLoopSplit, type WindowSample } from '../../../src/bench/kafka-fetch-profile.ts';
import { scenario, simulate } from './helpers.ts';

const kafka = (fetch: Record<string, number> = {}, pool = 16) => ({
  broker: { type: 'kafka', kafka: { brokers: ['x:1'], topics: ['t'], fetch } },
  queue: { maxEvents: 10_000 },
  pool: { size: pool },
});

describe('simulate kafka: fetch sizes', () => {
  it('fetch.minBytes of ten records: a fetch waits for ten (it used to loop for ever at the same instant)', async () => {
    const s = await scenario({
      config: kafka({ minBytes: 1000, maxWaitTimeMs: 500 }),
      workload: 'constant:1000/s',
      service: 'fixed:1ms',
      messageSize: 100,
      duration: 10,
      model: ['latencyMs=1'],
    });
    const { engine, model } = runScenario(s);
    const fetches = (model as KafkaDelivery).fetches;
    expect(engine.completed).toBeGreaterThan(9_900);
    // ten records (10 ms of arrivals) and a round trip's worth more each: ~12 records a fetch
    expect(fetches).toBeGreaterThan(700);
    expect(fetches).toBeLessThanOrEqual(1000);
  });

  it('fetch.maxWaitTimeMs bounds the wait when minBytes is not reached', async () => {
    const s = await scenario({
      config: kafka({ minBytes: 1_000_000, maxWaitTimeMs: 100 }),
      workload: 'constant:100/s',
      service: 'fixed:1ms',
      messageSize: 100,
      duration: 10,
      model: ['latencyMs=1'],
    });
    const { model } = runScenario(s);
    // one answer per ~102 ms cycle (the wait plus the round trip)
    expect((model as KafkaDelivery).fetches).toBeGreaterThan(90);
    expect((model as KafkaDelivery).fetches).toBeLessThanOrEqual(100);
  });
});

describe('simulate kafka: the loop per fetch', () => {
  it('a fetch answer holds the loop for loopUsPerFetch before its records are delivered', async () => {
    const options = { config: kafka(), workload: 'constant:100/s', service: 'fixed:2ms', duration: 10 };
    const off = await simulate({ ...options, model: ['latencyMs=1'] });
    const on = await simulate({ ...options, model: ['latencyMs=1', 'loopUsPerFetch=3000'] });
    // 100/s: one record a fetch, so each waits out one decode (3 ms) more, and a little for the fetch in progress
    const added = on.result.latencyMs.p50 - off.result.latencyMs.p50;
    expect(added).toBeGreaterThanOrEqual(2.9);
    expect(added).toBeLessThan(4.5);
  });

  it('the part after the delivery (loopFetchShareBefore) delays the next request, not the records', async () => {
    const options = { config: kafka(), workload: 'constant:100/s', service: 'fixed:2ms', duration: 10 };
    const before = await simulate({ ...options, model: ['latencyMs=1', 'loopUsPerFetch=3000'] });
    const after = await simulate({ ...options, model: ['latencyMs=1', 'loopUsPerFetch=3000', 'loopFetchShareBefore=0'] });
    const half = await simulate({ ...options, model: ['latencyMs=1', 'loopUsPerFetch=3000', 'loopFetchShareBefore=0.5'] });
    // 100/s, one record a fetch: all of it after the delivery takes the 3 ms decode off the path
    // (a record may still land while the loop runs the after part: a little of it shows)
    expect(before.result.latencyMs.p50 - after.result.latencyMs.p50).toBeGreaterThan(2);
    expect(half.result.latencyMs.p50).toBeGreaterThan(after.result.latencyMs.p50 + 1);
    expect(half.result.latencyMs.p50).toBeLessThan(before.result.latencyMs.p50 - 1);
    expect(after.result.throughput).toBeCloseTo(before.result.throughput, 0);
  });

  it('the part after the delivery holds the loop: fewer, fuller fetches', async () => {
    // 1,000/s: a 3 ms cycle of loop time per fetch either way; after the delivery it still
    // spaces the requests, so the fetch count stays that of the loop-bound cycle
    const count = async (share: string) => {
      const s = await scenario({
        config: kafka(),
        workload: 'constant:1000/s',
        service: 'fixed:1ms',
        duration: 10,
        model: ['latencyMs=1', 'loopUsPerFetch=3000', `loopFetchShareBefore=${share}`],
      });
      return (runScenario(s).model as KafkaDelivery).fetches;
    };
    const none = await (async () => {
      const s = await scenario({
        config: kafka(),
        workload: 'constant:1000/s',
        service: 'fixed:1ms',
        duration: 10,
        model: ['latencyMs=1'],
      });
      return (runScenario(s).model as KafkaDelivery).fetches;
    })();
    const after = await count('0');
    // without a loop cost a cycle is the 2 ms round trip (~5,000 fetches); with 3 ms after each, 5 ms
    expect(none).toBeGreaterThan(4_500);
    expect(after).toBeLessThan(2_200);
    expect(Math.abs(after - (await count('1'))) / after).toBeLessThan(0.1);
  });

  it('under a backlog the per-fetch cost is spread over full fetches: throughput is the pool', async () => {
    // 2 workers × 2 ms = 1,000/s; 2 ms per fetch of hundreds of records costs almost nothing.
    const { result } = await simulate({
      config: kafka({}, 2),
      workload: 'constant:1500/s',
      service: 'fixed:2ms',
      duration: 20,
      model: ['latencyMs=1', 'loopUsPerFetch=2000'],
    });
    expect(result.throughput).toBeGreaterThan(960);
    expect(result.throughput).toBeLessThan(1001);
  });
});

describe('simulate kafka: evenly spaced records land anywhere in their slot', () => {
  it('a rate that divides 1,000/s does not lock every latency onto the timers’ millisecond grid', async () => {
    // a timer-like handler (ends on the 1 ms grid) at 1,000/s: exactly spaced arrivals all sat at
    // the same point of the millisecond, so every latency was the same whole number of ms
    const base = await scenario({
      config: kafka(),
      workload: 'constant:1000/s',
      service: 'fixed:1ms',
      duration: 10,
      model: ['latencyMs=0.3'],
    });
    const sleep = { spec: 'timer', mean: 0.0013, sample: () => 0.0013, tick: 0.001 };
    const run = runScenario({ ...base, service: sleep });
    const latency = run.engine.latency;
    expect(latency.at(90) - latency.at(10)).toBeGreaterThan(0.0005);
    // the arrivals still come at the rate
    expect(run.engine.broker.sent).toBe(10_000);
  });

  it('the memory broker too (its producer thread posts anywhere in the millisecond); a handler without a timer grid keeps exact spacing', async () => {
    const memory = { broker: { type: 'memory' }, queue: { maxEvents: 10_000 }, pool: { size: 16 } };
    const base = await scenario({ config: memory, workload: 'constant:1000/s', service: 'fixed:1ms', duration: 10 });
    const ticked = runScenario({ ...base, service: { spec: 'timer', mean: 0.0013, sample: () => 0.0013, tick: 0.001 } }).engine.latency;
    expect(ticked.at(90) - ticked.at(10)).toBeGreaterThan(0.0005);
    const exact = runScenario({ ...base, service: { spec: 'fixed', mean: 0.0013, sample: () => 0.0013 } }).engine.latency;
    expect(exact.at(90) - exact.at(10)).toBeLessThan(0.00001);
  });
});

describe('validate calibration: splitLoopCost', () => {
  it('recovers per-fetch and per-event costs from two runs with different records per fetch', () => {
    const perFetch = 0.0008;
    const perEvent = 0.00015;
    const run = (events: number, fetches: number) => ({ events, fetches, busyS: events * perEvent + fetches * perFetch });
    const cost = splitLoopCost(run(15_000, 6_000), run(15_000, 250));
    expect(cost.perFetch).toBeCloseTo(perFetch, 9);
    expect(cost.perEvent).toBeCloseTo(perEvent, 9);
  });

  it('never returns a negative cost: the other part then carries both runs', () => {
    // the run with more fetches was the less busy one (noise): no per-fetch cost shows
    const cost = splitLoopCost({ events: 10_000, fetches: 5_000, busyS: 1 }, { events: 10_000, fetches: 200, busyS: 2 });
    expect(cost.perFetch).toBe(0);
    expect(cost.perEvent).toBeCloseTo(3 / 20_000, 12);
    const same = splitLoopCost({ events: 100, fetches: 10, busyS: 1 }, { events: 200, fetches: 20, busyS: 2 });
    expect(same).toEqual({ perFetch: 0, perEvent: 3 / 300 });
  });
});

describe('kafka fetch profile: fetchLoopSplit', () => {
  // synthetic cycles as the bench consumer measures them: the request window holds the wait for
  // the broker, so handler completions (0.04 ms each) and background work (1.5 % of its wall
  // time) land in it; the other windows are one busy stretch each
  const own = { send: 0.125, request: 0.2, decode: 0.06, deliver: 0.065, after: 0.012 } as const;
  const samples: WindowSample[] = [];
  for (let i = 0; i < 300; i++) {
    const completions = (i * 7) % 5;
    const wallMs = 0.3 + ((i * 13) % 17) * 0.1;
    samples.push({ window: 'request', activeMs: own.request + 0.04 * completions + 0.015 * wallMs, wallMs, completions });
    for (const window of ['send', 'decode', 'deliver', 'after'] as const) {
      samples.push({ window, activeMs: own[window], wallMs: own[window], completions: 0 });
    }
  }

  it('takes the completions and the background out of the request window, and gives each window its own time', () => {
    // (the request window's own time is its send plus what is left of the wait)
    const split = fetchLoopSplit(samples);
    expect(split.msPerCompletion).toBeCloseTo(0.04, 9);
    expect(split.background).toBeCloseTo(0.015, 9);
    for (const [window, ms] of Object.entries(own)) expect(split.msPerFetch[window as keyof typeof own]).toBeCloseTo(ms, 9);
    expect(split.cycles).toBe(300);
    // decode + deliver before the records' delivery, send + after after it: 0.125 of 0.262 ms
    expect(split.shareBefore).toBeCloseTo(0.125 / 0.262, 9);
  });

  it('a completion inside a busy window counts as the completion, not the fetch', () => {
    const split = fetchLoopSplit([
      ...samples,
      { window: 'deliver', activeMs: own.deliver + 0.04, wallMs: own.deliver + 0.04, completions: 1 },
    ]);
    expect(split.msPerFetch.deliver).toBeCloseTo(own.deliver, 9);
  });

  it('no samples: all of it before (the model as it was)', () => {
    expect(fetchLoopSplit([]).shareBefore).toBe(1);
  });
});
