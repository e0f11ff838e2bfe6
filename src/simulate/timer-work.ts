// The service time of `sluice bench --work fixed:<ms>|exp:<ms>` as this machine's Node runs it.
// The bench's handler sleeps with setTimeout, and a timer is not the time asked for: Node keeps
// a timer's start as the loop's cached whole-millisecond clock, fires it on the first loop turn
// at which that clock has moved on by the delay (a delay under 1 ms is 1 ms), and then the
// callback waits for its turn on the loop. Measured on one 2-core VM (16 chained sleepers, as a
// pool of 16; load average 4-6): fixed:2 took p50 2.18 / p99 4.8 ms (mean 2.29); exp:2
// (mean 2.00 asked) took p50 1.18 / p99 8.4 ms (mean 2.15); 0.3 ms took 1.12 ms. Rather than a
// formula for all of it, simulate:validate measures the sleeps here, on the machine and Node
// that run the bench, and the model draws from those samples (an empirical inverse CDF).
// Two ways, because how a timer starts changes it: chained (started in the previous sleep's
// callback, as a busy worker takes its next event) and delivered (started in a message from
// another thread at a steady pace, as an idle worker gets an event: any point of the loop's
// millisecond). Measured at load average 6: exp:2 delivered p50 1.55 / mean 2.60 ms, chained
// p50 1.14 / mean 2.09 ms; fixed:2 delivered mean 2.58 ms.
import { Worker } from 'node:worker_threads';
import { parseWork, workFunction } from '../bench/rate.ts';
import type { ServiceTime } from './service-time.ts';

/** Durations (s, sorted) of `samples` runs of the bench's work, `concurrency` chained at a time. */
export async function measureWork(work: string, samples = 4000, concurrency = 16): Promise<Float64Array> {
  const spec = parseWork(work);
  if (spec.kind === 'none') return new Float64Array([0]);
  const run = workFunction(spec);
  const durations = new Float64Array(samples);
  let next = 0;
  const sleeper = async () => {
    while (next < samples) {
      const i = next++;
      const started = performance.now();
      await run();
      durations[i] = (performance.now() - started) / 1000;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sleeper));
  return durations.sort();
}

/**
 * Durations (s, sorted) of `samples` runs of the bench's work, each started in a message a
 * worker thread posts every `gapMs` (a busy-wait there keeps the pace, as the bench's producer).
 */
export async function measureDeliveredWork(work: string, samples = 4000, gapMs = 0.5): Promise<Float64Array> {
  const spec = parseWork(work);
  if (spec.kind === 'none') return new Float64Array([0]);
  const run = workFunction(spec);
  const pacer = new Worker(
    `const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
     const t0 = performance.now();
     let n = 0;
     const next = () => { while (performance.now() - t0 < n * workerData.gapMs) {} parentPort.postMessage(n++); if (n < workerData.samples) setImmediate(next); };
     next();`,
    { eval: true, workerData: { gapMs, samples } },
  );
  const durations = new Float64Array(samples);
  let done = 0;
  await new Promise<void>((resolve) => {
    pacer.on('message', () => {
      const started = performance.now();
      const finish = () => {
        durations[done++] = (performance.now() - started) / 1000;
        if (done === samples) resolve();
      };
      const result = run();
      if (result) void result.then(finish);
      else finish();
    });
  });
  await pacer.terminate();
  return durations.sort();
}

const draw = (sorted: Float64Array) => (random: { next(): number }) =>
  sorted[Math.min(sorted.length - 1, Math.floor(random.next() * sorted.length))]!;

function describe(sorted: Float64Array): string {
  let sum = 0;
  for (const d of sorted) sum += d;
  const n = sorted.length;
  const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))]! * 1000;
  return `p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, mean ${((sum / n) * 1000).toFixed(2)} ms`;
}

/** A service time drawn from measured durations (sorted, seconds): on a delivery, and chained. */
export function measuredService(spec: string, delivered: Float64Array, chained: Float64Array): ServiceTime {
  let sum = 0;
  for (const d of delivered) sum += d;
  return {
    spec,
    mean: sum / delivered.length,
    note: `${spec} as measured here: delivered ${describe(delivered)}; chained ${describe(chained)} (${delivered.length} + ${chained.length} runs)`,
    sample: draw(delivered),
    sampleChained: draw(chained),
    tick: 0.001,
  };
}
