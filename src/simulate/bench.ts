// `npm run bench:simulate`: the simulator's own speed (issue #15's goals: a 60 s scenario at
// 50,000 events/s with a pool of 64 in under 2 s; a 100-point sweep in under a minute). Prints
// one line per measurement and, last, one JSON object. Timings only: no assertion (the machine
// is shared); compare the figures with the goals by eye or in CI's log.
import { validateConfig } from '../config/validate.ts';
import { parseModelParams } from './model-params.ts';
import { summarize } from './results.ts';
import { runScenario, type Scenario } from './scenario.ts';
import { parseServiceTime } from './service-time.ts';
import { sweep } from './sweep.ts';
import { parseWorkload } from './workload.ts';

async function scenario(type: string, section: Record<string, unknown>): Promise<Scenario> {
  const config = await validateConfig({ broker: { type, [type]: section }, queue: { maxEvents: 10_000 }, pool: { size: 64 } });
  return {
    config,
    workload: parseWorkload('constant:50000/s'),
    service: parseServiceTime('exp:1ms'),
    failureRate: 0,
    keys: 1000,
    keySkew: 'uniform',
    messageSize: 1024,
    durationS: 60,
    warmupS: 0,
    drainS: 60,
    seed: 1,
    model: parseModelParams(type, []),
  };
}

const figures: Record<string, number> = {};
for (const [type, section] of [
  ['memory', {}],
  ['kafka', { brokers: ['127.0.0.1:9092'], topics: ['events'] }],
] as const) {
  const s = await scenario(type, section);
  runScenario({ ...s, durationS: 5 }); // warm the JIT
  const { engine, wallMs } = runScenario(s);
  const result = summarize(s, engine, wallMs);
  figures[`${type}ScenarioMs`] = Math.round(wallMs);
  process.stderr.write(
    `${type}: 60 s at 50,000/s, pool 64: ${result.sent.toLocaleString('en-US')} events simulated in ${(wallMs / 1000).toFixed(2)} s (goal < 2 s), p99 ${result.latencyMs.p99.toFixed(2)} ms\n`,
  );
}
const base = await scenario('memory', {});
const queues = [100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000];
const pools = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const grid = sweep({ ...base, workload: parseWorkload('constant:10000/s') }, queues, pools, 100);
figures.sweep100Ms = Math.round(grid.wallMs);
process.stderr.write(
  `sweep: 100 points (queue ${queues[0]}..${queues.at(-1)} × pool ${pools[0]}..${pools.at(-1)}), 60 s at 10,000/s each: ${(grid.wallMs / 1000).toFixed(1)} s (goal < 60 s)\n`,
);
process.stdout.write(`${JSON.stringify(figures)}\n`);
