// simulate:validate's scenarios (issue #15: memory broker and Kafka; under- and over-provisioned
// pools; a burst; a lossy policy; per-key ordering with skewed keys), and how one run of each
// side becomes the figures validate-compare.ts compares. Rates are kept low enough for a shared
// 2-core machine to offer them (the bench's producer runs on the same machine), and every run is
// short: 3 s of warm-up and 12 s measured (--quick: 2 s and 6 s).
import type { BrokerRun } from '../bench/run-broker.ts';
import type { SimulationResult } from './results.ts';
import type { Figures } from './validate-compare.ts';

export interface ValidateScenario {
  name: string;
  /** What it checks, for the table's reader. */
  why: string;
  broker: 'memory' | 'kafka';
  /** `--workload`, the same spec for both sides. */
  workload: string;
  /** The bench's `--work` (a setTimeout sleep); the model draws from measured sleeps (timer-work.ts). */
  work: string;
  queue: number;
  pool: number;
  /** `--set` lines for both sides (policy, orderByKey). */
  set: string[];
  keys: number;
  keySkew: string;
}

export const SCENARIOS: readonly ValidateScenario[] = [
  {
    name: 'memory-pool16',
    why: 'over-provisioned pool: latency is the handler plus the pipeline',
    broker: 'memory',
    workload: 'constant:2000/s',
    work: 'exp:2',
    queue: 1000,
    pool: 16,
    set: [],
    keys: 100,
    keySkew: 'uniform',
  },
  {
    name: 'memory-pool4-short',
    why: 'under-provisioned pool (block): throughput is the pool, the backlog grows',
    broker: 'memory',
    workload: 'constant:2500/s',
    work: 'fixed:2',
    queue: 1000,
    pool: 4,
    set: [],
    keys: 100,
    keySkew: 'uniform',
  },
  {
    name: 'memory-burst',
    why: 'a burst above the pool for 2 s every 6 s: a backlog that drains (within --quick too)',
    broker: 'memory',
    workload: 'steady:500/s,peak:2500/s,for:2s,every:6s,start:3s',
    work: 'fixed:2',
    queue: 10000,
    pool: 4,
    set: [],
    keys: 100,
    keySkew: 'uniform',
  },
  {
    name: 'memory-drop-newest',
    why: 'lossy policy: the queue overflows, the drops are the excess',
    broker: 'memory',
    workload: 'constant:2500/s',
    work: 'fixed:2',
    queue: 200,
    pool: 4,
    set: ['queue.policy=drop-newest'],
    keys: 100,
    keySkew: 'uniform',
  },
  {
    name: 'memory-keyed-zipf',
    // zipf:1.2 over 20 keys gives the hot key 29 %: ~200/s of ~2.5 ms, its one lane 50 % busy
    // (at 1,000/s it was 75-90 %, where a 10 % error in the measured sleep swung p99 by 5x).
    why: 'per-key ordering with skewed keys: the hot key runs one at a time',
    broker: 'memory',
    workload: 'constant:700/s',
    work: 'exp:2',
    queue: 1000,
    pool: 16,
    set: ['pool.orderByKey=true'],
    keys: 20,
    keySkew: 'zipf:1.2',
  },
  {
    name: 'kafka-pool16',
    why: 'Kafka, over-provisioned: fetch cycles and the round trip',
    broker: 'kafka',
    workload: 'constant:1000/s',
    work: 'exp:2',
    queue: 1000,
    pool: 16,
    set: [],
    keys: 100,
    keySkew: 'uniform',
  },
  {
    name: 'kafka-pool2-short',
    why: 'Kafka, under-provisioned: the pool caps throughput, the topic backs up',
    broker: 'kafka',
    workload: 'constant:1500/s',
    work: 'fixed:2',
    queue: 1000,
    pool: 2,
    set: [],
    keys: 100,
    keySkew: 'uniform',
  },
];

export const TIMING = { full: { warmupS: 3, durationS: 12 }, quick: { warmupS: 2, durationS: 6 } } as const;

/** Broker timestamps are whole milliseconds (Date.now(), Kafka's CreateTime): 0.5 ms late on average. */
export const TIMESTAMP_TRUNCATION_MS = 0.5;

/**
 * The bench's side. Latency from the broker's timestamp (what the model measures: from the
 * append), less the mean truncation of a whole-ms timestamp; dropped = events sent and never
 * delivered (a lossy policy acks what it drops); keeps up by the model's own rule
 * (results.ts verdict): nothing dropped, and no more than about a second of the offered rate
 * unfinished at the end of the measured window.
 */
export function benchFigures(run: BrokerRun, offeredRate: number, queue: number): Figures {
  const latency = run.fromBrokerMs ?? run.latencyMs;
  const end = run.workload.warmupS + run.workload.durationS;
  // The series' last point is the drain's result (backlog after it), numbered one past the last
  // sample: when the sampler's last tick rounded to end − 1, it took the number `end` and a
  // backlog of 0 read as keeping up (kafka-pool2-short, 15:45): only the samples are looked at.
  const samples = run.series.slice(0, -1);
  const atEnd = samples.find((p) => p.t === end) ?? samples.at(-1);
  const unfinished = atEnd?.backlog ?? 0;
  const dropped = run.delivery.lost;
  return {
    throughput: run.throughput,
    p50: Math.max(0, latency.p50 - TIMESTAMP_TRUNCATION_MS),
    p99: Math.max(0, latency.p99 - TIMESTAMP_TRUNCATION_MS),
    keepsUp: dropped === 0 && unfinished <= Math.max(offeredRate, queue / 10, 100),
    dropped,
    sent: run.sent,
  };
}

export function simFigures(result: SimulationResult): Figures {
  return {
    throughput: result.throughput,
    p50: result.latencyMs.p50,
    p99: result.latencyMs.p99,
    keepsUp: result.verdict.keepsUp,
    dropped: result.dropped,
    sent: result.sent,
  };
}
