// The model's event-loop cost, measured from the real core before the scenarios: a short
// `sluice bench` run per broker with a pool far larger than the load needs (so queueing does not
// enter) and a 1 ms timer handler (so a timer's own loop cost is in), reading the consumer's
// event-loop utilization while production ran. It is measured on the machine that runs the
// scenarios, so a loaded machine (the process descheduled while busy) shows a larger figure, as
// its scenarios will.
// The same run's GC pauses (PerformanceObserver in the bench consumer) give the model's GC input:
// pauses per event and the pauses themselves; their time is taken out of the loop figures.
//
// Memory broker: busy share ÷ events per second = loop seconds per event (`loopUsPerEvent`):
// Sluice's delivery, queue, dispatch and ack and the bench's recording.
// Kafka: the client's work is per fetch as well as per event (kafkajs decodes a fetch answer and
// runs its eachBatch rounds whatever the fetch holds), and at 1,000/s with the default
// fetch.minBytes=1 a fetch holds a few records, so the per-event figure of one run overstated the
// loop's cost of a full fetch (the under-provisioned scenario's own loop was 14 % busy at 840/s,
// ~160 µs per event, against 455 µs calibrated: throughput 10-16 % low). Two runs at the same
// rate, the second with large fetches (minBytes 64 KiB: tens of records each), give two
// equations busy = fetches × perFetch + events × perEvent; the fetch counts are the model's own
// for each run (it simulates them, fixed point over the costs), so the model reproduces both runs'
// loop time (splitLoopCost).
// Where the per-fetch time falls: the default-fetch run also profiles kafkajs' fetch cycles
// (src/bench/kafka-fetch-profile.ts): the share spent between a fetch's answer and its records'
// delivery (the decode, eachBatch) lengthens the records' path; the rest (offsets, heartbeat,
// building the next request) runs after the delivery and delays only the next fetch.
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBroker } from '../bench/broker-spec.ts';
import { type FetchLoopSplit, type FetchProfile, fetchLoopSplit } from '../bench/kafka-fetch-profile.ts';
import { type BrokerRun, runBroker } from '../bench/run-broker.ts';
import type { KafkaDelivery } from './delivery-kafka.ts';
import { parseModelParams } from './model-params.ts';
import { runScenario } from './scenario.ts';
import { parseServiceTime } from './service-time.ts';
import { TIMESTAMP_TRUNCATION_MS } from './validate-scenarios.ts';
import { parseWorkload } from './workload.ts';
import { median } from '../util/median.ts';

export interface LoopCalibration {
  broker: string;
  rate: number;
  loopBusyShare: number;
  /** Loop time per event outside GC pauses (and outside the per-fetch part, Kafka). */
  usPerEvent: number;
  /** Kafka: loop time per fetch answer; 0 elsewhere. */
  usPerFetch: number;
  /** Kafka: the two runs behind the split (events, model fetches, loop seconds besides GC). */
  split?: LoopSample[];
  /** Kafka: share of the per-fetch time before the records are delivered (profiled); 1 elsewhere. */
  fetchShareBefore: number;
  /** Kafka: the profile behind fetchShareBefore (ms per fetch of each window). */
  fetchProfile?: FetchLoopSplit;
  /** Kafka: the model's one-way client ↔ broker ms, fitted to the measured path to the handler (fitLatency). */
  latencyMs?: number;
  /** Kafka: the measured median ms from a record's append to its handler's start (profile). */
  pathMs?: number;
  cpuPercent: number;
  /** GC pauses per event, and the pauses (ms). */
  gcPerEvent: number;
  gcPausesMs: number[];
}

/** One calibration run: events and fetches while production ran, and the loop's busy seconds besides GC. */
export interface LoopSample {
  events: number;
  fetches: number;
  busyS: number;
}

/** The calibration run's rate per broker: about the scenarios' own, well under what the machine offers. */
const RATES: Record<string, number> = { memory: 2000, kafka: 1000 };
/** Kafka's second run: large fetches (tens of 1 KiB records each at 1,000/s). */
const LARGE_FETCHES = ['broker.kafka.fetch.minBytes=65536', 'broker.kafka.fetch.maxWaitTimeMs=200'];
const POOL = 256;
const QUEUE = 10_000;

type Timing = { warmupS: number; durationS: number };

async function calibrationRun(broker: string, rate: number, seconds: Timing, set: string[], profileFile?: string): Promise<BrokerRun> {
  // The bench's consumer process inherits the variable (kafka-fetch-profile.ts).
  if (profileFile) process.env.SLUICE_KAFKA_FETCH_PROFILE = profileFile;
  try {
    return await runBroker(
      broker,
      {
        rate,
        spec: `constant:${rate}/s`,
        seed: 1,
        durationS: seconds.durationS,
        warmupS: seconds.warmupS,
        messageSize: 1024,
        keys: 100,
        partitions: 4,
        work: 'fixed:1',
        queueSize: QUEUE,
        poolSize: POOL,
        drainTimeoutS: 30,
      },
      { set },
    );
  } finally {
    delete process.env.SLUICE_KAFKA_FETCH_PROFILE;
  }
}

/** The fetch cycles the consumer profiled (none if it wrote nothing). */
async function readProfile(file: string): Promise<FetchProfile> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as FetchProfile;
  } catch {
    return { fetches: 0, samples: [], startDelaysMs: [] };
  } finally {
    await rm(file, { force: true });
  }
}

/** Loop seconds besides GC pauses while production ran (the share is over warm-up and measurement alike, as the events are). */
function busyBesidesGc(run: BrokerRun, wall: number): number {
  const gcS = (run.gcPausesMs ?? []).reduce((a, b) => a + b, 0) / 1000;
  return Math.max(0, (run.loopBusyShare ?? 0) * wall - gcS);
}

/**
 * Per-fetch and per-event loop seconds from two runs' samples: the solution of
 * busy_i = fetches_i × perFetch + events_i × perEvent, neither negative (a negative one is set
 * to 0 and the other fits both runs' totals).
 */
export function splitLoopCost(a: LoopSample, b: LoopSample): { perFetch: number; perEvent: number } {
  const eventsOnly = { perFetch: 0, perEvent: (a.busyS + b.busyS) / Math.max(1, a.events + b.events) };
  const det = a.fetches * b.events - b.fetches * a.events;
  if (det === 0) return eventsOnly;
  const perFetch = (a.busyS * b.events - b.busyS * a.events) / det;
  const perEvent = (a.fetches * b.busyS - b.fetches * a.busyS) / det;
  if (perFetch >= 0 && perEvent >= 0) return { perFetch, perEvent };
  if (perFetch < 0) return eventsOnly;
  return { perFetch: (a.busyS + b.busyS) / Math.max(1, a.fetches + b.fetches), perEvent: 0 };
}

/** The model of a calibration run (production only: no drain), with the given model parameters. */
async function modelRun(set: string[], rate: number, seconds: Timing, model: string[], service = 'fixed:1ms') {
  const { config } = await resolveBroker('kafka', undefined, '--brokers', [...set, `queue.maxEvents=${QUEUE}`, `pool.size=${POOL}`]);
  return runScenario({
    config,
    workload: parseWorkload(`constant:${rate}/s`),
    service: parseServiceTime(service),
    failureRate: 0,
    keys: 100,
    keySkew: 'uniform',
    messageSize: 1024,
    durationS: seconds.warmupS + seconds.durationS,
    warmupS: seconds.warmupS,
    drainS: 0,
    seed: 1,
    model: parseModelParams('kafka', [...model, 'partitions=4']),
  });
}

/** Fetches the model makes in a calibration run. */
async function modelFetches(set: string[], rate: number, seconds: Timing, model: string[]): Promise<number> {
  return ((await modelRun(set, rate, seconds, model)).model as KafkaDelivery).fetches;
}

const costParams = (cost: { perEvent: number; perFetch: number }, shareBefore: number) => [
  `loopUsPerEvent=${cost.perEvent * 1e6}`,
  `loopUsPerFetch=${cost.perFetch * 1e6}`,
  `loopFetchShareBefore=${shareBefore}`,
];

/**
 * The one-way client ↔ broker time (ms) with which the model's median path from a record's
 * append to its handler's start is the one measured (the profile's start delays less the
 * timestamp's mean truncation). The model's round trip is one constant; the real path also holds
 * the producer's leg (CreateTime is stamped before the send) and the broker's wait for the
 * producer's next batch, so the figure is the round trip as the records' path sees it, not a
 * ping. A handler of 0 and no per-event loop time leave the path alone (bisection: more latency,
 * a longer path).
 */
async function fitLatency(pathMs: number, rate: number, seconds: Timing, costs: string[]): Promise<number> {
  let low = 0.005;
  let high = 5;
  for (let round = 0; round < 14; round++) {
    const middle = Math.sqrt(low * high);
    const { engine } = await modelRun([], rate, seconds, [...costs, 'loopUsPerEvent=0', `latencyMs=${middle}`], 'fixed:0ms');
    if (engine.latency.at(50) * 1000 < pathMs) low = middle;
    else high = middle;
  }
  return Math.sqrt(low * high);
}

export async function calibrateLoop(broker: string, seconds: Timing): Promise<LoopCalibration> {
  const rate = RATES[broker] ?? 1000;
  const profileFile = (name: string) => join(tmpdir(), `sluice-fetch-profile-${process.pid}-${name}.json`);
  const run = await calibrationRun(broker, rate, seconds, [], broker === 'kafka' ? profileFile('default') : undefined);
  if (run.error) throw new Error(`loop calibration on ${broker}: ${run.error}`);
  const wall = seconds.warmupS + seconds.durationS;
  const pauses = run.gcPausesMs ?? [];
  const busyS = busyBesidesGc(run, wall);
  const result: LoopCalibration = {
    broker,
    rate,
    loopBusyShare: run.loopBusyShare ?? 0,
    usPerEvent: (busyS / Math.max(1, run.sent)) * 1e6,
    usPerFetch: 0,
    cpuPercent: run.cpuPercent,
    gcPerEvent: pauses.length / Math.max(1, run.sent),
    gcPausesMs: pauses,
    fetchShareBefore: 1,
  };
  if (broker !== 'kafka') return result;
  const profiled = await readProfile(profileFile('default'));
  const large = await calibrationRun(broker, rate, seconds, LARGE_FETCHES, profileFile('large'));
  if (large.error) throw new Error(`loop calibration on ${broker} (large fetches): ${large.error}`);
  const profiledLarge = await readProfile(profileFile('large'));
  const profile = fetchLoopSplit(profiled.samples);
  // No cycle profiled (another client, several broker nodes): all of it before, as before.
  const shareBefore = profile.cycles > 0 ? profile.shareBefore : 1;
  const samples: [LoopSample, LoopSample] = [
    { events: run.sent, fetches: profiled.fetches, busyS },
    { events: large.sent, fetches: profiledLarge.fetches, busyS: busyBesidesGc(large, wall) },
  ];
  let cost = { perFetch: 0, perEvent: busyS / Math.max(1, run.sent) };
  if (profiled.fetches > 0 && profiledLarge.fetches > 0) {
    // The fetches kafkajs really sent in each run (profiled).
    cost = splitLoopCost(samples[0], samples[1]);
    const delays = profiled.startDelaysMs;
    const pathMs = delays.length > 0 ? Math.max(0, median(delays) - TIMESTAMP_TRUNCATION_MS) : 0;
    const latencyMs = delays.length > 0 ? await fitLatency(pathMs, rate, seconds, costParams(cost, shareBefore)) : undefined;
    return { ...result, ...perEventFetch(cost), split: samples, fetchShareBefore: shareBefore, fetchProfile: profile, latencyMs, pathMs };
  }
  // Not profiled: the fetch counts the model makes itself, which depend on the costs (a longer
  // decode makes fewer, fuller fetches): a few rounds settle them.
  for (let round = 0; round < 4; round++) {
    samples[0].fetches = await modelFetches([], rate, seconds, costParams(cost, shareBefore));
    samples[1].fetches = await modelFetches(LARGE_FETCHES, rate, seconds, costParams(cost, shareBefore));
    cost = splitLoopCost(samples[0], samples[1]);
  }
  return { ...result, ...perEventFetch(cost), split: samples, fetchShareBefore: shareBefore };
}

const perEventFetch = (cost: { perEvent: number; perFetch: number }) => ({
  usPerEvent: cost.perEvent * 1e6,
  usPerFetch: cost.perFetch * 1e6,
});
