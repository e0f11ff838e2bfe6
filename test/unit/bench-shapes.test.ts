// `sluice bench --workload`: the bench's open-loop producer follows simulate's workload shapes,
// and several producers split one sequence space (issue #15 item 4).
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { autoProducers, mergeReports, SummedCounts } from '../../src/bench/producer-split.ts';
import { OpenLoopSchedule, peakRate } from '../../src/bench/rate.ts';
import { DeliveryRecorder, encodeHistogram, latencyHistogram } from '../../src/bench/recorder.ts';
import { runBroker } from '../../src/bench/run-broker.ts';
import { stamp } from '../../src/bench/stamp.ts';
import { parseWorkload, type Workload } from '../../src/simulate/workload.ts';
import { spawnSluice } from '../sluice-cli.ts';

/** Every own event of a schedule: [global seq, intended ms]. */
function all(schedule: OpenLoopSchedule): [number, number][] {
  const events: [number, number][] = [];
  while (!schedule.finished) {
    const { first, count, stride, intendedMs } = schedule.take(Number.POSITIVE_INFINITY, 10_000);
    for (let i = 0; i < count; i++) events.push([first + i * stride, intendedMs[i]!]);
  }
  return events;
}

/** The integral of the shape's rate over [from, to) seconds. */
function integral(shape: Workload, from: number, to: number): number {
  let events = 0;
  shape.starts.forEach((start, i) => {
    const end = shape.starts[i + 1] ?? Number.POSITIVE_INFINITY;
    events += Math.max(0, Math.min(end, to) - Math.max(start, from)) * shape.rates[i]!;
  });
  return events;
}

function perSecond(events: [number, number][], startMs: number, seconds: number): number[] {
  const counts = new Array<number>(seconds).fill(0);
  // Due times are rounded to the µs (rate.ts): one just before the horizon can show at it.
  for (const [, ms] of events) counts[Math.min(seconds - 1, Math.floor((ms - startMs) / 1000))]!++;
  return counts;
}

describe('the open-loop schedule follows the workload shape', () => {
  for (const spec of ['steady:1000/s,peak:5000/s,for:2s,every:5s,start:3s', 'ramp:500/s..4000/s,over:8s', 'constant:1500/s']) {
    it(`${spec}: events per second = the rate's integral (±1), due times in order, sequence 0..n-1`, () => {
      const shape = parseWorkload(spec);
      const events = all(new OpenLoopSchedule(shape, 1_000, 10));
      const counts = perSecond(events, 1_000, 10);
      for (const [s, count] of counts.entries()) {
        expect(Math.abs(count - integral(shape, s, s + 1)), `second ${s}: ${count}`).toBeLessThanOrEqual(1 + 1e-6);
      }
      expect(Math.abs(events.length - integral(shape, 0, 10))).toBeLessThanOrEqual(1 + 1e-6);
      expect(events.map(([seq]) => seq)).toEqual(events.map((_, i) => i));
      for (let i = 1; i < events.length; i++) expect(events[i]![1]).toBeGreaterThanOrEqual(events[i - 1]![1]);
    });
  }

  it('a constant rate N over H seconds is exactly N × H events (floating point does not add one)', () => {
    for (const rate of [3, 7, 1500, 3000, 12_345]) {
      for (const seconds of [1, 2, 7, 65]) {
        const schedule = new OpenLoopSchedule(parseWorkload(`constant:${rate}/s`), 0, seconds);
        schedule.take(Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER);
        expect(schedule.taken, `${rate}/s × ${seconds} s`).toBe(rate * seconds);
      }
    }
  });

  it('steady bursts: the peak seconds carry the peak rate, the others the steady one', () => {
    const counts = perSecond(all(new OpenLoopSchedule(parseWorkload('steady:1000/s,peak:5000/s,for:2s,every:5s,start:3s'), 0, 10)), 0, 10);
    expect(counts).toEqual([1000, 1000, 1000, 5000, 5000, 1000, 1000, 1000, 5000, 5000]);
    expect(peakRate(parseWorkload('steady:1000/s,peak:5000/s,for:2s,every:5s,start:3s'), 2)).toBe(1000);
  });

  it('Poisson: the mean rate within a few %, and the same seed gives the same times', () => {
    const shape = parseWorkload('poisson:2000/s');
    const a = all(new OpenLoopSchedule(shape, 0, 20, { seed: 7 }));
    expect(Math.abs(a.length - 40_000) / 40_000).toBeLessThan(0.03);
    expect(all(new OpenLoopSchedule(shape, 0, 20, { seed: 7 }))).toEqual(a);
    expect(all(new OpenLoopSchedule(shape, 0, 20, { seed: 8 }))).not.toEqual(a);
    // Not evenly spaced: the gaps vary (exponential, mean 0.5 ms).
    const gaps = new Set(a.slice(1, 100).map(([, ms], i) => Math.round((ms - a[i]![1]) * 1000)));
    expect(gaps.size).toBeGreaterThan(50);
  });

  it('split between producers: each event once, at the time the unsplit schedule gives it', () => {
    for (const spec of ['poisson:3000/s', 'steady:1000/s,peak:5000/s,for:1s,every:3s,arrivals:poisson', 'constant:999/s']) {
      const shape = parseWorkload(spec);
      const whole = all(new OpenLoopSchedule(shape, 0, 6, { seed: 3 }));
      const parts = [0, 1, 2].map((part) => all(new OpenLoopSchedule(shape, 0, 6, { seed: 3, part, parts: 3 })));
      for (const [part, events] of parts.entries()) for (const [seq] of events) expect(seq % 3).toBe(part);
      const merged = parts.flat().sort((x, y) => x[0] - y[0]);
      expect(merged).toEqual(whole);
    }
  });
});

describe('several producers, one sequence space', () => {
  it('the consumer accounts refused strided batches as not expected', () => {
    const recorder = new DeliveryRecorder(0, 0);
    const filler = Buffer.alloc(64);
    // Producer 1 of 2 had events 1, 3, 5 refused; everything else arrived.
    for (const seq of [0, 2, 4, 6, 7, 8, 9]) recorder.record(stamp(filler, seq, 0), 1);
    expect(recorder.summary(10, [[1, 3, 2]])).toEqual({ received: 7, unique: 7, duplicates: 0, lost: 0, foreign: 0 });
  });

  it('reports add up; progress sums the latest counts, read at the oldest time', () => {
    const histogram = latencyHistogram();
    histogram.recordValue(100);
    const report = (sent: number, behind: number) => ({
      sent,
      taken: sent + 1,
      failedRanges: [[sent, 1, 2]] as [number, number, number][],
      publishLatency: encodeHistogram(histogram),
      perSecond: [sent, 1],
      maxBehindMs: behind,
    });
    const merged = mergeReports([report(10, 5), report(20, 50)]);
    expect(merged).toMatchObject({
      sent: 30,
      taken: 32,
      perSecond: [30, 2],
      maxBehindMs: 50,
      failedRanges: [
        [10, 1, 2],
        [20, 1, 2],
      ],
    });
    const counts = new SummedCounts(2);
    expect(counts.update(0, { at: 100, published: 5, confirmed: 4 })).toEqual({ at: -Infinity, published: 5, confirmed: 4 });
    expect(counts.update(1, { at: 90, published: 7, confirmed: 7 })).toEqual({ at: 90, published: 12, confirmed: 11 });
    expect(autoProducers('kafka', 'kafkajs', 50_000, 8)).toBe(3);
    expect(autoProducers('kafka', 'kafkajs', 50_000, 2)).toBe(1);
    expect(autoProducers('kafka', 'platformatic', 50_000, 8)).toBe(2);
    expect(autoProducers('kafka', 'kafkajs', 10_000, 8)).toBe(1);
    expect(autoProducers('memory', undefined, 160_000, 8)).toBe(1);
  });

  it('memory broker, a burst shape, two producer threads: sent = delivered, nothing lost or doubled', { timeout: 60_000 }, async () => {
    const spec = 'steady:500/s,peak:3000/s,for:1s,every:2s,start:1s';
    const run = await runBroker('memory', {
      rate: 0,
      spec,
      producers: 2,
      durationS: 3,
      warmupS: 1,
      messageSize: 128,
      keys: 10,
      partitions: 1,
      work: 'none',
      drainTimeoutS: 20,
    });
    expect(run.workload).toMatchObject({ spec, producers: 2 });
    expect(Math.abs(run.sent - integral(parseWorkload(spec), 0, 4))).toBeLessThanOrEqual(2);
    expect(run.delivery).toMatchObject({ unique: run.sent, lost: 0, duplicates: 0 });
  });
});

describe('sluice bench --workload', () => {
  it('refuses a bad shape before any work, naming the flag and listing the forms (exit 2)', async () => {
    const [bad, both, max] = [
      ['bench', '--workload', 'burst:50000/s'],
      ['bench', '--workload', 'constant:100/s', '--rate', '100'],
      ['bench', '--workload', 'constant:100/s', '--rate', 'max'],
    ].map((args) => spawnSluice(args));
    expect(await bad!.exited).toBe(2);
    expect(bad!.output.stderr).toMatch(
      /--workload: unknown shape "burst".*accepted forms: constant:10000\/s \| poisson:10000\/s \| steady:/,
    );
    expect(bad!.output.stdout).toBe('');
    expect(await both!.exited).toBe(2);
    expect(both!.output.stderr).toMatch(/--workload: --rate 100 and --workload both give the arrivals/);
    expect(await max!.exited).toBe(2);
    expect(max!.output.stderr).toMatch(/--rate: --rate max searches a constant rate/);
  });

  it('records the spec and the mean offered rate in the JSON and the table', { timeout: 60_000 }, async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'sluice-shapes-')), 'bench.json');
    const spec = 'ramp:200/s..1000/s,over:2s';
    const { output, exited } = spawnSluice(
      ['bench', '--brokers', 'memory', '--workload', spec, '--warmup', '1', '--duration', '1', '--message-size', '128', '--out', out, '-q'],
      {},
    );
    expect(await exited, output.stderr).toBe(0);
    const json = JSON.parse(await readFile(out, 'utf8'));
    expect(json.options.workload).toMatchObject({ spec });
    expect(json.runs[0].workload).toMatchObject({ spec, rate: 600, producers: 1 });
    expect(json.runs[0].delivery).toMatchObject({ lost: 0, duplicates: 0 });
    expect(output.stdout).toMatch(/memory +600 /);
  });
});
