// Kafka's per-fetch loop cost (--model loopUsPerFetch), fetch.minBytes above one record, and
// the calibration's split of the loop's time into per-fetch and per-event parts. Closed forms
// only: the costs are inputs here, no timings of this machine.
import { describe, expect, it } from 'vitest';
import type { KafkaDelivery } from '../../../src/simulate/delivery-kafka.ts';
import { runScenario } from '../../../src/simulate/scenario.ts';
import { splitLoopCost } from '../../../src/simulate/validate-calibrate.ts';
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
