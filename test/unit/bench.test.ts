import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { benchCommand } from '../../src/bench/bench-command.ts';
import { parseBrokerSpec, profileFor, resolveBroker } from '../../src/bench/broker-spec.ts';
import { judge } from '../../src/bench/max-rate.ts';
import { OpenLoopSchedule, parseWork } from '../../src/bench/rate.ts';
import { parseWorkload } from '../../src/simulate/workload.ts';
import { DeliveryRecorder, percentilesMs } from '../../src/bench/recorder.ts';
import { renderBenchReport } from '../../src/bench/report-html.ts';
import { runBroker, type BrokerRun } from '../../src/bench/run-broker.ts';
import type { Phase } from '../../src/bench/progress.ts';
import { readStamp, stamp } from '../../src/bench/stamp.ts';
import { markFrontier, recommend, snippetFor, tuneCommand, type TuneOutput, type TunePoint } from '../../src/bench/tune.ts';
import { ConfigError } from '../../src/errors.ts';

describe('open-loop rate control', () => {
  it('hands out what the clock says is due, and catches up after a stall instead of forgetting it', () => {
    const schedule = new OpenLoopSchedule(parseWorkload('constant:1000/s'), 0, 5);
    expect(schedule.take(0, 100)).toMatchObject({ first: 0, count: 1, intendedMs: [0] });
    expect(schedule.take(10, 100)).toMatchObject({ first: 1, count: 10 });
    // A 500 ms stall: 500 events are due at once (in batches of at most 100).
    expect(schedule.take(510, 100)).toMatchObject({ first: 11, count: 100 });
    const late = schedule.take(510, 1000);
    expect(late.count).toBe(400);
    expect(late.intendedMs[250 - 111]).toBe(250);
    expect(schedule.take(10_000, 10_000)).toMatchObject({ first: 511, count: 4489 });
    expect(schedule.finished).toBe(true);
  });

  it('parses handler work specs and refuses bad ones', () => {
    expect(parseWork('fixed:2')).toEqual({ kind: 'fixed', ms: 2 });
    expect(parseWork('exp:0.5ms')).toEqual({ kind: 'exp', ms: 0.5 });
    expect(parseWork('none')).toEqual({ kind: 'none', ms: 0 });
    expect(() => parseWork('slow')).toThrow(/--work slow/);
  });
});

describe('delivery accounting', () => {
  const filler = Buffer.alloc(64);
  it('stamps round-trip', () => {
    expect(readStamp(stamp(filler, 42, 1234.5))).toEqual({ seq: 42, intendedMs: 1234.5 });
    expect(readStamp(Buffer.from('not a bench event, long enough'))).toBeUndefined();
  });

  it('reports losses, duplicates and foreign events, and excludes refused batches', () => {
    const recorder = new DeliveryRecorder(0, 0);
    for (const seq of [0, 1, 2, 2, 5, 7, 100_000]) recorder.record(stamp(filler, seq, 0), 5);
    recorder.record(Buffer.from('foreign payload, no stamp at all'), 5);
    // 10 taken; 8 and 9 were refused by the broker so they are not expected.
    expect(recorder.summary(10, [[8, 2]])).toEqual({ received: 7, unique: 5, duplicates: 1, lost: 3, foreign: 1 });
  });

  it('measures latency from the intended send time and leaves the warm-up out', () => {
    const recorder = new DeliveryRecorder(0, 1000);
    recorder.record(stamp(filler, 0, 500), 600); // warm-up
    recorder.record(stamp(filler, 1, 1000), 1004);
    recorder.record(stamp(filler, 2, 1000), 1010);
    const p = percentilesMs(recorder.latencyUs);
    expect(p.count).toBe(2);
    expect(p.p50).toBeCloseTo(4, 1);
    expect(p.max).toBeCloseTo(10, 1);
  });

  it('judges a lossy or backlogged run as not sustained', () => {
    const run = {
      workload: { rate: 1000 },
      throughput: 1000,
      delivery: { lost: 0 },
      producerMaxBehindMs: 0,
      series: [
        { t: 1, sent: 1000, confirmed: 1000, delivered: 990, backlog: 10 },
        { t: 2, sent: 1000, confirmed: 1000, delivered: 1000, backlog: 0 },
      ],
    } as unknown as BrokerRun;
    expect(judge(run).sustained).toBe(true);
    expect(judge({ ...run, delivery: { ...run.delivery, lost: 3 } }).reason).toMatch(/lost 3/);
    expect(judge({ ...run, throughput: 800 }).sustained).toBe(false);
    expect(
      judge({ ...run, series: [{ t: 1, sent: 5000, confirmed: 5000, delivered: 2000, backlog: 3000 }, run.series[1]!] }).reason,
    ).toMatch(/backlog 3000/);
  });
});

describe('tune', () => {
  const point = (queueSize: number, poolSize: number, throughput: number, p99Ms: number, peakRssMB: number, lost = 0): TunePoint => ({
    queueSize,
    poolSize,
    throughput,
    p99Ms,
    peakRssMB,
    lost,
    meetsSlo: lost === 0 && p99Ms <= 50 && throughput >= 950,
    frontier: false,
  });

  it('marks the Pareto frontier and recommends the smallest configuration meeting the SLO with zero loss', () => {
    const points = [
      point(100, 1, 400, 900, 80),
      point(100, 4, 1000, 40, 82),
      point(1000, 4, 1000, 45, 90),
      point(1000, 16, 1000, 10, 95),
      point(10, 2, 1000, 5, 70, 12),
    ];
    markFrontier(points);
    expect(points.map((p) => p.frontier)).toEqual([true, true, false, true, false]);
    const best = recommend(points)!;
    expect(best).toMatchObject({ queueSize: 100, poolSize: 4 });
    expect(snippetFor(best, 50, 1000)).toMatch(/queue:\n {2}maxEvents: 100\npool:\n {2}size: 4/);
    expect(snippetFor(undefined, 50, 1000)).toMatch(/no configuration met/);
  });
});

describe('sluice bench on the memory broker (small scale)', () => {
  const workload = { rate: 2000, durationS: 2, warmupS: 1, messageSize: 256, keys: 10, partitions: 4, work: 'none', drainTimeoutS: 20 };

  it('produces complete, consistent results: sent = delivered + lost, no loss, no negative latency', async () => {
    const phases: Phase[] = [];
    const run = await runBroker('memory', workload, {
      onProgress: (p) => {
        if (phases.at(-1) !== p.phase) phases.push(p.phase);
        // Delivered never above sent, at any instant (sampling.ts).
        expect(p.delivered).toBeLessThanOrEqual(p.sent);
      },
    });
    // In order; the 1 s warm-up may fall between two once-a-second reports on a busy machine.
    const order: Phase[] = ['setup', 'warm-up', 'measure', 'drain'];
    expect(phases).toEqual(order.filter((phase) => phases.includes(phase)));
    expect(phases).toEqual(expect.arrayContaining(['setup', 'measure', 'drain']));
    // Every second of the series: delivered ≤ sent (bench once printed more delivered than sent).
    for (const point of run.series) {
      expect(point.delivered, `t=${point.t}`).toBeLessThanOrEqual(point.sent);
      expect(point.backlog).toBe(point.sent - point.delivered);
    }
    expect(run.config).toMatchObject({ broker: { type: 'memory' }, pool: { mode: 'async' }, handler: { module: 'noop' } });
    expect(run.sent).toBe(6000);
    expect(run.delivery.unique + run.delivery.lost).toBe(run.sent);
    expect(run.delivery.lost).toBe(0);
    expect(run.delivery.duplicates).toBe(0);
    expect(run.latencyMs.count).toBeGreaterThan(3000);
    expect(run.latencyMs.p50).toBeGreaterThan(0);
    expect(run.latencyMs.p99).toBeGreaterThanOrEqual(run.latencyMs.p50);
    expect(run.latencyMs.max).toBeGreaterThanOrEqual(run.latencyMs.p999);
    expect(run.throughput).toBeGreaterThan(0);
    expect(run.series.length).toBeGreaterThan(1);
    expect(run.series.every((p) => p.backlog >= 0)).toBe(true);
    expect(run.peakRssMB).toBeGreaterThan(0);
    const html = renderBenchReport({
      kind: 'bench',
      version: '0',
      commit: 'unknown',
      machine: { cpus: 2, cpuModel: 'x', memoryGB: 1, node: 'v20', os: 'x', note: '' },
      startedAt: '',
      options: { brokers: ['memory'], rate: workload.rate, workload, profiles: {}, set: [] },
      runs: [run],
    });
    expect(html.match(/class="series" data-broker="memory"/g)).toHaveLength(3);
  });

  it('reports the losses of a deliberately lossy run (drop-newest queue, slow handler)', async () => {
    const profile = join(await mkdtemp(join(tmpdir(), 'sluice-bench-')), 'lossy.yaml');
    await writeFile(profile, 'broker:\n  type: memory\nqueue:\n  policy: drop-newest\n');
    const run = await runBroker('memory', { ...workload, work: 'fixed:5', queueSize: 10, poolSize: 1, drainTimeoutS: 4 }, { profile });
    expect(run.delivery.lost).toBeGreaterThan(0);
    expect(run.delivery.unique + run.delivery.lost).toBe(run.sent);
  });
});

describe('sluice bench and sluice tune as commands (memory broker, small scale)', () => {
  const workload = { durationS: 2, warmupS: 1, messageSize: 128, keys: 10, partitions: 1, work: 'none', drainTimeoutS: 10 };
  const logOut = () => ({
    text: '',
    isTTY: false,
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  });

  it('bench: progress on its own stream, the warm-up noted under the table, version/commit/machine/options in the JSON', {
    timeout: 60_000,
  }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
    const progressOut = logOut();
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let code: number;
    let printed: string;
    try {
      code = await benchCommand({
        brokers: ['memory'],
        rate: 1000,
        workload,
        profiles: {},
        set: ['queue.maxEvents=500'],
        out: join(dir, 'b.json'),
        progressOut,
      });
    } finally {
      printed = stdout.mock.calls.map(([chunk]) => String(chunk)).join('');
      stdout.mockRestore();
    }
    expect(code).toBe(0);
    expect(printed).toMatch(/^broker +rate\/s/);
    expect(printed).toContain('warm-up: the first 1 s of each run are left out of throughput and latency');
    expect(printed).not.toContain('broker 1/1'); // progress is not on stdout
    expect(progressOut.text).toMatch(/^broker 1\/1 memory · setup · elapsed 0s · ~13s left\n/);
    expect(progressOut.text).toMatch(/\nmemory: done in \d+ s\n$/);
    const output = JSON.parse(await readFile(join(dir, 'b.json'), 'utf8'));
    expect(output).toMatchObject({
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      commit: expect.stringMatching(/^([0-9a-f]{7,}(\+dirty)?|unknown)$/),
      machine: {
        cpus: expect.any(Number),
        cpuModel: expect.any(String),
        memoryGB: expect.any(Number),
        node: process.version,
        os: expect.any(String),
      },
      options: { brokers: ['memory'], rate: 1000, workload, set: ['queue.maxEvents=500'] },
    });
    expect(output.runs[0].config.queue.maxEvents).toBe(500);
    expect(Date.parse(output.finishedAt)).toBeGreaterThan(Date.parse(output.startedAt));
  });

  it('tune: trial n/N progress, quiet silences it, and the start time is taken before the sweep', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-tune-'));
    const options = { broker: 'memory', rate: 500, sloP99Ms: 1000, queueSizes: [100], poolSizes: [1, 2], workload };
    const progressOut = logOut();
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await tuneCommand({ ...options, out: join(dir, 't.json'), progressOut })).toBe(0);
      const quietOut = logOut();
      expect(await tuneCommand({ ...options, poolSizes: [1], quiet: true, progressOut: quietOut })).toBe(0);
      expect(quietOut.text).toBe('');
      const printed = stdout.mock.calls.map(([chunk]) => String(chunk)).join('');
      expect(printed).toContain('warm-up: the first 1 s of each run are left out of throughput and latency');
      expect(printed).not.toMatch(/trial \d\/\d/); // progress is not on stdout
    } finally {
      stdout.mockRestore();
    }
    expect(progressOut.text).toMatch(/^trial 1\/2 memory queue 100, pool 1 · setup/m);
    expect(progressOut.text).toMatch(/^trial 2\/2 memory queue 100, pool 2 · setup/m);
    expect(progressOut.text).toMatch(/^trial 2\/2 queue 100, pool 2: [\d,]+\/s, p99 /m);
    const output = JSON.parse(await readFile(join(dir, 't.json'), 'utf8')) as TuneOutput;
    // Two trials of at least warm-up + duration each (the producer's open-loop schedule) lie
    // between start and finish: a start taken after the sweep (as once) would not be this early.
    const span = Date.parse(output.finishedAt) - Date.parse(output.startedAt);
    expect(span).toBeGreaterThanOrEqual(2 * (workload.warmupS + workload.durationS) * 1000);
    expect(output).toMatchObject({
      version: expect.any(String),
      commit: expect.any(String),
      options: { queueSizes: [100], poolSizes: [1, 2] },
    });
    expect(output.config).toMatchObject({ broker: { type: 'memory' } });
  });
});

describe('broker variants (sluice bench --brokers kafka:platformatic,kafka)', () => {
  it('reads broker or broker:client and names --brokers when either is wrong', async () => {
    expect(parseBrokerSpec('kafka')).toEqual({ spec: 'kafka', type: 'kafka' });
    expect(parseBrokerSpec('kafka:platformatic')).toEqual({ spec: 'kafka:platformatic', type: 'kafka', client: 'platformatic' });
    expect(() => parseBrokerSpec('rabbit')).toThrow(/config --brokers: unknown broker rabbit .*memory, kafka/);
    expect(() => parseBrokerSpec('kafka:')).toThrow(ConfigError);
    expect(() => parseBrokerSpec('kafka:a:b')).toThrow(/expected broker or broker:client/);
    await expect(resolveBroker('kafka:rdkafka')).rejects.toThrow(
      /config --brokers: kafka:rdkafka: client rdkafka: .*kafkajs.*platformatic/,
    );
    await expect(resolveBroker('memory:fast')).rejects.toThrow(/config --brokers: memory:fast: broker memory has no client to choose/);
  });

  it("overrides the profile's client and labels the series with it; a broker alone keeps the profile's", async () => {
    const platformatic = await resolveBroker('kafka:platformatic');
    expect(platformatic.label).toBe('kafka (platformatic)');
    expect(platformatic.config.broker.kafka).toMatchObject({ client: 'platformatic', group: 'sluice-local' });
    expect((await resolveBroker('kafka')).label).toBe('kafka (kafkajs)');
    expect((await resolveBroker('memory')).label).toBe('memory');
    expect(profileFor({ kafka: 'a.yaml', 'kafka:platformatic': 'b.yaml' }, parseBrokerSpec('kafka:platformatic'))).toBe('b.yaml');
    expect(profileFor({ kafka: 'a.yaml' }, parseBrokerSpec('kafka:platformatic'))).toBe('a.yaml');
  });

  it('refuses the whole bench before any run when two brokers are the same run or one is unknown', async () => {
    const options = {
      rate: 1000,
      workload: { durationS: 1, warmupS: 0, messageSize: 64, keys: 1, partitions: 1, work: 'none', drainTimeoutS: 1 },
      profiles: {},
      quiet: true,
    };
    await expect(benchCommand({ ...options, brokers: ['kafka', 'kafka:kafkajs'] })).rejects.toThrow(
      /config --brokers: kafka and kafka:kafkajs are the same run \(kafka \(kafkajs\)\)/,
    );
    await expect(benchCommand({ ...options, brokers: ['memory', 'kafka:nope'] })).rejects.toThrow(/--brokers: kafka:nope/);
  });
});
