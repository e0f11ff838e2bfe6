// The simulator's flags: every shape parses to the rate it says, and every mistake fails with
// the flag's name and the accepted forms.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { keySampler } from '../../../src/simulate/keys.ts';
import { parseModelParams } from '../../../src/simulate/model-params.ts';
import { Random } from '../../../src/simulate/random.ts';
import { parseServiceTime } from '../../../src/simulate/service-time.ts';
import { Arrivals, meanRate, parseWorkload } from '../../../src/simulate/workload.ts';

const count = (spec: string, horizon: number, read?: (p: string) => string) => {
  const arrivals = new Arrivals(parseWorkload(spec, '--workload', read), new Random(1), horizon);
  let n = 0;
  while (arrivals.next() < horizon) n++;
  return n;
};

describe('simulate --workload', () => {
  it('constant and poisson', () => {
    expect(count('constant:1000/s', 10)).toBe(10_000);
    expect(Math.abs(count('poisson:1000/s', 10) - 10_000)).toBeLessThan(400);
  });

  it('bursts: steady with peaks of `for` every `every`, first at `start`', () => {
    const spec = 'steady:100/s,peak:1000/s,for:10s,every:60s,start:20s';
    // 0-20 s steady, 20-30 s peak, 30-80 s steady, 80-90 s peak, 90-120 s steady.
    expect(count(spec, 120)).toBe(100 * 100 + 1000 * 20);
    expect(meanRate(parseWorkload(spec), 120)).toBeCloseTo((100 * 100 + 1000 * 20) / 120, 6);
  });

  it('ramp: the integral of a linear rate', () => {
    expect(Math.abs(count('ramp:1000/s..3000/s,over:10s', 10) - 20_000)).toBeLessThan(20);
  });

  it('replay: a CSV rate series, header allowed', () => {
    const csv = 't_seconds,rate\n0,100\n5,1000\n';
    expect(Math.abs(count('replay:rates.csv', 10, () => csv) - (500 + 5000))).toBeLessThanOrEqual(1);
    expect(() => parseWorkload('replay:r.csv', '--workload', () => '0,100\n0,200\n')).toThrow(/times must increase/);
    expect(() => parseWorkload('replay:r.csv', '--workload', () => '0,100\nx,y\n')).toThrow(/line 2/);
    expect(() => parseWorkload('replay:missing.csv')).toThrow(/cannot read the replay file/);
  });

  for (const bad of [
    '10000',
    'constant:fast',
    'burst:10/s',
    'steady:10/s,peak:50/s,for:30s',
    'ramp:1/s,over:10s',
    'steady:1/s,peak:2/s,for:5m,every:1m',
    'constant:10/s,arrivals:poisson',
  ]) {
    it(`refuses "${bad}" naming the flag and the forms`, () => {
      let error: unknown;
      try {
        parseWorkload(bad);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).key).toBe('--workload');
      if (!bad.startsWith('constant:10/s,')) expect((error as Error).message).toMatch(/accepted forms: constant:10000\/s/);
    });
  }
});

describe('simulate --service-time, --key-skew, --model', () => {
  it('fixed, exp, lognormal from its p50 and p99', () => {
    const random = new Random(3);
    expect(parseServiceTime('fixed:5ms').sample(random)).toBe(0.005);
    const exp = parseServiceTime('exp:5ms');
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum += exp.sample(random);
    expect(sum / 100_000).toBeCloseTo(0.005, 3);
    const lognormal = parseServiceTime('lognormal:p50=4ms,p99=40ms');
    const samples = Array.from({ length: 100_000 }, () => lognormal.sample(random)).sort((a, b) => a - b);
    expect(samples[50_000]! / 0.004).toBeGreaterThan(0.97);
    expect(samples[50_000]! / 0.004).toBeLessThan(1.03);
    expect(samples[99_000]! / 0.04).toBeGreaterThan(0.93);
    expect(samples[99_000]! / 0.04).toBeLessThan(1.07);
  });

  it('empirical: the latency curve of a sluice bench JSON as an inverse CDF', () => {
    const bench = JSON.stringify({
      runs: [
        {
          broker: 'memory',
          workload: { rate: 1000, work: 'fixed:2' },
          latencyCurve: [
            [0, 1],
            [50, 2],
            [99, 4],
            [100, 10],
          ],
        },
      ],
    });
    const service = parseServiceTime('empirical:bench.json', '--service-time', () => bench);
    const random = new Random(1);
    const samples = Array.from({ length: 20_000 }, () => service.sample(random)).sort((a, b) => a - b);
    expect(samples[10_000]! * 1000).toBeCloseTo(2, 1);
    expect(service.note).toMatch(/end-to-end latency curve/);
    expect(() => parseServiceTime('empirical:bench.json#kafka', '--service-time', () => bench)).toThrow(/no usable run for broker "kafka"/);
  });

  for (const bad of ['5ms', 'fixed:fast', 'lognormal:p50=4ms', 'lognormal:p50=40ms,p99=4ms', 'gamma:5ms']) {
    it(`refuses --service-time "${bad}"`, () => {
      expect(() => parseServiceTime(bad)).toThrow(/--service-time.*accepted forms: fixed:5ms/);
    });
  }

  it('zipf skew puts the hot key first; bad skews and model keys are named', () => {
    const sampler = keySampler(1000, 'zipf:1.1', new Random(1));
    expect(sampler.hottestShare).toBeGreaterThan(0.1);
    expect(() => keySampler(10, 'zipf:-1', new Random(1))).toThrow(/--key-skew/);
    expect(() => parseModelParams('kafka', ['latency=3'])).toThrow(/--model.*unknown key "latency"/);
    expect(parseModelParams('kinesis', ['kinesisLimits=false']).kinesisLimits).toBe(false);
  });
});

describe('simulate --calibrate-from', () => {
  it('fits the service time to the /metrics histogram of a running Sluice', async () => {
    const { bucketsFrom, serviceTimeFromBuckets } = await import('../../../src/simulate/calibrate.ts');
    const page = [
      '# TYPE sluice_processing_duration_seconds histogram',
      'sluice_processing_duration_seconds_bucket{broker="kafka",le="0.001"} 0',
      'sluice_processing_duration_seconds_bucket{broker="kafka",le="0.0025"} 500',
      'sluice_processing_duration_seconds_bucket{broker="kafka",le="0.005"} 900',
      'sluice_processing_duration_seconds_bucket{broker="kafka",le="0.01"} 1000',
      'sluice_processing_duration_seconds_bucket{broker="kafka",le="+Inf"} 1000',
      'sluice_processing_duration_seconds_count{broker="kafka"} 1000',
    ].join('\n');
    const service = serviceTimeFromBuckets(bucketsFrom(page), 'metrics.txt');
    const random = new Random(1);
    const samples = Array.from({ length: 20_000 }, () => service.sample(random)).sort((a, b) => a - b);
    // Half the events took 1-2.5 ms: the median is at the top of that bucket.
    expect(samples[10_000]! * 1000).toBeGreaterThan(2.3);
    expect(samples[10_000]! * 1000).toBeLessThan(2.6);
    expect(samples[0]! * 1000).toBeGreaterThanOrEqual(1);
    expect(samples.at(-1)! * 1000).toBeLessThanOrEqual(10);
    expect(() => serviceTimeFromBuckets(bucketsFrom('up 1\n'), 'x')).toThrow(
      /--calibrate-from.*no sluice_processing_duration_seconds_bucket/,
    );
  });
});
