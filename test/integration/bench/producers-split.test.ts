// `sluice bench --producers N` on Kafka: N producer processes split one sequence space (event i
// goes to producer i mod N) and the consumer accounts every event exactly once (issue #15).
// Small scale: this checks the accounting, not the rate (timings belong in benches).
import { describe, expect, it } from 'vitest';
import { runBroker } from '../../../src/bench/run-broker.ts';
import { parseWorkload } from '../../../src/simulate/workload.ts';
import { OpenLoopSchedule } from '../../../src/bench/rate.ts';
import { requireBroker } from '../brokers.ts';

describe('sluice bench: several Kafka producer processes, one sequence space', () => {
  for (const broker of ['kafka', 'kafka:platformatic']) {
    it(`${broker}: 3 producers on a burst shape: sent = delivered, nothing lost or doubled`, { timeout: 180_000 }, async (ctx) => {
      requireBroker('kafka', ctx);
      const spec = 'steady:300/s,peak:1200/s,for:1s,every:2s,start:1s,arrivals:poisson';
      const workload = {
        rate: 0,
        spec,
        seed: 5,
        producers: 3,
        durationS: 3,
        warmupS: 1,
        messageSize: 1024,
        keys: 10,
        partitions: 2,
        work: 'none',
        drainTimeoutS: 60,
      };
      const run = await runBroker(broker, workload);
      console.log(
        `bench ${broker} x3 producers: sent ${run.sent}, delivered ${run.delivery.unique}, lost ${run.delivery.lost}, dups ${run.delivery.duplicates}`,
      );
      expect(run.error).toBeUndefined();
      expect(run.workload).toMatchObject({ spec, producers: 3 });
      expect(run.sent).toBe(eventsOf(spec, 5, 4));
      expect(run.delivery).toMatchObject({ unique: run.sent, lost: 0, duplicates: 0, foreign: 0 });
    });
  }
});

/** The events of a seeded shape over the horizon: the producers together must send exactly these. */
function eventsOf(spec: string, seed: number, seconds: number): number {
  const schedule = new OpenLoopSchedule(parseWorkload(spec), 0, seconds, { seed });
  schedule.take(Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER);
  return schedule.taken;
}
