/**
 * `npm run bench:kinesis`: what Sluice costs on top of the Kinesis SDK, against kinesalite.
 *
 *  1. A backlog of `--records` records is written once, with Sluice's PutRecords publisher, into
 *     a fresh stream of `--shards` shards (default 1: the figure is per shard).
 *  2. The backlog is read three times per round: by a bare loop (GetShardIterator TRIM_HORIZON,
 *     then GetRecords with the same Limit Sluice uses, nothing else), once paced like Sluice (a
 *     call at most every 200 ms: Kinesis allows 5 per second per shard, so that is the fastest a
 *     correct consumer may read) and once back to back (over that limit: kinesalite does not
 *     enforce it, AWS would throttle), then through Sluice as `sluice run` starts it (bench-support.ts:
 *     schema defaults, handler wrappers, metrics scraped once a second, summary line; file
 *     checkpoints, default poll interval), a handler that only counts in place of the noop. Rates
 *     run from the first record in hand to the last one read / processed, so start-up is not
 *     counted. Sluice / paced bare loop, median of the rounds, is the figure of merit.
 *  3. End-to-end latency at the default poll interval (200 ms): a publisher in this process writes
 *     `--rate` records/s (open loop: each record carries its intended send time) while Sluice
 *     reads; p50/p99/max from intended send to the end of the handler, HDR histogram.
 *
 * Human-readable lines go to stderr; the last line on stdout is one JSON object with the figures.
 *   npm run bench:kinesis -- --records 50000 --rate 500 --seconds 15
 * Needs kinesalite: `npm run brokers:up -- kinesis` (endpoint from SLUICE_KINESIS_ENDPOINT or --endpoint).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as hdr from 'hdr-histogram-js';
import type { OutgoingEvent, SourceEvent } from '../broker/contract.ts';
import type { ToolingAdapter } from '../broker/tooling.ts';
import { benchAdapter, startBareReader } from './bench-adapters.ts';
import { fmt, runConfigFor, runId, say, sleep, startSluiceAsRun, waitUntil } from './bench-support.ts';
import { flagOrExit, parseDuration, parseSize } from '../cli/units.ts';
import { median } from '../util/median.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    payload: { type: 'string', default: '512' },
    shards: { type: 'string', default: '1' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
    endpoint: { type: 'string', default: process.env.SLUICE_KINESIS_ENDPOINT ?? 'http://127.0.0.1:4567' },
  },
});
const RECORDS = Number(args.records);
const PAYLOAD = flagOrExit(() => parseSize(args.payload, '--payload'));
const SHARDS = Number(args.shards);
const RATE = Number(args.rate);
const SECONDS = flagOrExit(() => parseDuration(args.seconds, '--seconds', 's'));
const ROUNDS = Math.max(1, Number(args.rounds));
const QUEUE = 10_000;
const run = runId();

/** What the benchmark reads of the validated `broker.kinesis` section. */
interface KinesisBench {
  stream: string;
  application: string;
  consumer: { pollIntervalMs: number };
}

/** The `broker.kinesis` section of a config, as a user would write it. */
function section(stream: string, application: string, checkpoints: string): Record<string, unknown> {
  return {
    stream,
    application,
    endpoint: args.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    leases: { type: 'file', path: join(checkpoints, `${application}.json`) },
  };
}

/** An adapter on `section(...)`, and that section validated (with its defaults). */
function kinesis(stream: string, application: string, checkpoints: string) {
  return benchAdapter<KinesisBench>('kinesis', section(stream, application, checkpoints));
}

/** Sluice as `sluice run` starts it (bench-support.ts: defaults, wrappers, metrics, summary) with `handler`. */
function sluiceFor(stream: string, application: string, checkpoints: string, handler: (event: SourceEvent) => void) {
  return startSluiceAsRun(runConfigFor('kinesis', section(stream, application, checkpoints)), handler);
}

async function produceBacklog(adapter: ToolingAdapter, stream: string): Promise<number> {
  const publisher = adapter.createPublisher();
  const payload = Buffer.alloc(PAYLOAD, 'sluice-kinesis-bench;');
  const started = performance.now();
  for (let sent = 0; sent < RECORDS; ) {
    const count = Math.min(500, RECORDS - sent);
    const batch = new Array<OutgoingEvent>(count);
    for (let i = 0; i < count; i++) batch[i] = { key: `key-${(sent + i) % 1000}`, payload };
    await publisher.publish(stream, batch);
    sent += count;
  }
  await publisher.close();
  return RECORDS / ((performance.now() - started) / 1000);
}

/**
 * The bare loop (adapters/kinesis/bench-hooks.ts): GetRecords on every shard, one loop per shard,
 * calls at least `spacingMs` apart, records dropped; timed from the first record to the last.
 */
async function bareLoop(stream: string, application: string, checkpoints: string, spacingMs: number) {
  const cpu = process.cpuUsage();
  let read = 0;
  let first = 0;
  let last = 0;
  const reader = await startBareReader('kinesis', section(stream, application, checkpoints), {
    queue: { maxEvents: QUEUE, maxBytes: 64 << 20 },
    fetchSpacingMs: spacingMs,
    onRead: (count) => {
      const now = performance.now();
      if (first === 0) first = now;
      last = now;
      read += count;
    },
  });
  await reader.ended;
  if (read < RECORDS) throw new Error(`bare loop read ${read} of ${RECORDS}`);
  const measured: Measured = { rate: RECORDS / ((last - first) / 1000), cpuMicrosPerRecord: cpuPerRecord(cpu) };
  return { ...measured, description: reader.description };
}

async function throughSluice(stream: string, application: string, checkpoints: string): Promise<Measured> {
  const cpu = process.cpuUsage();
  let processed = 0;
  let first = 0;
  let last = 0;
  const sluice = await sluiceFor(stream, application, checkpoints, () => {
    const now = performance.now();
    if (processed === 0) first = now;
    last = now;
    processed++;
  });
  await waitUntil(`${RECORDS} records through Sluice`, () => processed >= RECORDS, 600_000);
  const cpuMicrosPerRecord = cpuPerRecord(cpu);
  await sluice.stop();
  return { rate: RECORDS / ((last - first) / 1000), cpuMicrosPerRecord };
}

interface Measured {
  rate: number;
  /** This process's CPU (user + system) per record: what the client side costs, whatever the machine's load. */
  cpuMicrosPerRecord: number;
}

function cpuPerRecord(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return Math.round(((used.user + used.system) / RECORDS) * 100) / 100;
}

async function latency(
  adapter: ToolingAdapter,
  kinesisConfig: KinesisBench,
  checkpoints: string,
): Promise<{ p50: number; p99: number; max: number; mean: number; count: number }> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  const sent = RATE * SECONDS;
  let received = 0;
  const sluice = await sluiceFor(kinesisConfig.stream, kinesisConfig.application, checkpoints, (event) => {
    const intended = event.payload.readDoubleBE(0);
    histogram.recordValue(Math.max(1, Math.round((performance.timeOrigin + performance.now() - intended) * 1000)));
    received++;
  });
  const publisher = adapter.createPublisher();
  const padding = Buffer.alloc(Math.max(0, PAYLOAD - 8), 'x');
  const start = performance.timeOrigin + performance.now();
  let published = 0;
  while (published < sent) {
    const now = performance.timeOrigin + performance.now();
    const due = Math.min(sent, Math.floor(((now - start) / 1000) * RATE));
    if (due > published) {
      const batch: OutgoingEvent[] = [];
      for (let i = published; i < due; i++) {
        const payload = Buffer.concat([Buffer.alloc(8), padding]);
        payload.writeDoubleBE(start + (i / RATE) * 1000, 0); // intended send time: open loop
        batch.push({ key: `key-${i % 100}`, payload });
      }
      await publisher.publish(kinesisConfig.stream, batch);
      published = due;
    }
    await sleep(5);
  }
  await waitUntil('every latency record', () => received >= sent, 60_000);
  await sluice.stop();
  await publisher.close();
  const ms = (micros: number) => Math.round(micros / 10) / 100;
  return {
    p50: ms(histogram.getValueAtPercentile(50)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
    count: received,
  };
}

async function main(): Promise<void> {
  const checkpoints = await mkdtemp(join(tmpdir(), 'sluice-kinesis-bench-'));
  const backlogStream = `bench-${run}`;
  const latencyStream = `bench-latency-${run}`;
  const { config: base, adapter } = await kinesis(backlogStream, `bench-${run}`, checkpoints);
  const admin = adapter.createAdmin();
  let limit = '';
  try {
    await admin.createDestination(backlogStream, { partitions: SHARDS });
    await admin.createDestination(latencyStream, { partitions: SHARDS });
  } catch (error) {
    say(
      `bench: cannot create streams at ${args.endpoint} (${(error as Error).message}); start kinesalite with: npm run brokers:up -- kinesis`,
    );
    process.exitCode = 1;
    return;
  }
  try {
    say(
      `kinesis bench: ${fmt(RECORDS)} records of ${PAYLOAD} B, ${SHARDS} shard(s), Sluice with a ${fmt(QUEUE)}-event queue, ${ROUNDS} round(s); kinesalite at ${args.endpoint}`,
    );
    const putRate = await produceBacklog(adapter, backlogStream);
    say(`backlog written: ${fmt(putRate)} records/s through the publisher`);
    const paced: (Measured & { description: string })[] = [];
    const unpaced: Measured[] = [];
    const sluice: Measured[] = [];
    const ratios: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      paced.push(await bareLoop(backlogStream, base.application, checkpoints, base.consumer.pollIntervalMs));
      unpaced.push(await bareLoop(backlogStream, base.application, checkpoints, 0));
      limit = paced.at(-1)!.description;
      sluice.push(await throughSluice(backlogStream, `bench-${run}-r${round}`, checkpoints));
      ratios.push(sluice.at(-1)!.rate / paced.at(-1)!.rate);
      say(
        `round ${round}: bare loop paced ${fmt(paced.at(-1)!.rate)}, back to back ${fmt(unpaced.at(-1)!.rate)}, through Sluice ${fmt(sluice.at(-1)!.rate)} records/s (Sluice / paced ${ratios.at(-1)!.toFixed(2)}); ` +
          `CPU µs/record bare ${paced.at(-1)!.cpuMicrosPerRecord}, Sluice ${sluice.at(-1)!.cpuMicrosPerRecord}`,
      );
    }
    const ratio = median(ratios);
    const rate = (measured: Measured[]) => median(measured.map((m) => m.rate));
    const cpu = (measured: Measured[]) => median(measured.map((m) => m.cpuMicrosPerRecord));
    say(
      `throughput per shard (median of ${ROUNDS}): bare paced ${fmt(rate(paced) / SHARDS)}, bare back to back ${fmt(rate(unpaced) / SHARDS)}, Sluice ${fmt(rate(sluice) / SHARDS)} records/s; ` +
        `Sluice / paced bare = ${ratio.toFixed(2)} (goal >= 0.9), Sluice / back to back = ${(rate(sluice) / rate(unpaced)).toFixed(2)}; ` +
        `client CPU per record: bare ${cpu(paced)} µs, Sluice ${cpu(sluice)} µs`,
    );

    const { config: latencyConfig, adapter: latencyAdapter } = await kinesis(latencyStream, `bench-${run}-latency`, checkpoints);
    const lat = await latency(latencyAdapter, latencyConfig, checkpoints);
    say(
      `end-to-end latency at ${fmt(RATE)} records/s, poll interval ${latencyConfig.consumer.pollIntervalMs} ms: p50 ${lat.p50} ms, p99 ${lat.p99} ms, max ${lat.max} ms (${fmt(lat.count)} records)`,
    );

    process.stdout.write(
      `${JSON.stringify({
        kind: 'bench-kinesis',
        broker: 'kinesalite',
        machine: { cpus: availableParallelism(), loadavg1m: Math.round(loadavg()[0]! * 100) / 100, node: process.version },
        records: RECORDS,
        payloadBytes: PAYLOAD,
        shards: SHARDS,
        bareLoop: limit,
        putRecordsPerSecond: Math.round(putRate),
        barePacedRecordsPerSecondPerShard: paced.map((m) => Math.round(m.rate / SHARDS)),
        bareBackToBackRecordsPerSecondPerShard: unpaced.map((m) => Math.round(m.rate / SHARDS)),
        sluiceRecordsPerSecondPerShard: sluice.map((m) => Math.round(m.rate / SHARDS)),
        ratio: Math.round(ratio * 100) / 100,
        ratioToBackToBack: Math.round((rate(sluice) / rate(unpaced)) * 100) / 100,
        cpuMicrosPerRecord: { bare: cpu(paced), sluice: cpu(sluice) },
        latency: { rate: RATE, seconds: SECONDS, pollIntervalMs: latencyConfig.consumer.pollIntervalMs, ...lat },
      })}\n`,
    );
  } finally {
    await admin.deleteDestination(backlogStream).catch(() => undefined);
    await admin.deleteDestination(latencyStream).catch(() => undefined);
    await admin.close();
    await rm(checkpoints, { recursive: true, force: true });
  }
}

await main();
