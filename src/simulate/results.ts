// What a simulation reports, in the vocabulary of `sluice bench` (src/bench/bench-command.ts
// benchTable, src/bench/recorder.ts Percentiles): throughput, end-to-end latency percentiles
// (from the broker append to the ack), queue depth over time, paused share, backlog, drops,
// dead letters, estimated memory, and whether the configuration keeps up and why.
import type { Percentiles } from '../bench/recorder.ts';
import { ms, num, table } from '../bench/table.ts';
import type { Engine } from './engine.ts';
import { EVENT_OVERHEAD_BYTES } from './overhead.ts';
import { partitionsOf, type Scenario } from './scenario.ts';
import type { SeriesPoint } from './series.ts';
import { meanRate } from './workload.ts';

export interface SimulationResult {
  broker: string;
  queueSize: number;
  poolSize: number;
  policy: string;
  orderByKey: boolean;
  partitions: number;
  workload: string;
  serviceTime: string;
  serviceTimeNote?: string;
  failureRate: number;
  keys: number;
  keySkew: string;
  messageSize: number;
  durationS: number;
  seed: number;
  /** Mean offered rate over the duration (events/s). */
  offeredRate: number;
  sent: number;
  /** Events acked within the duration, per second (after the warm-up). */
  throughput: number;
  latencyMs: Percentiles;
  latencyMeanMs: number;
  latencyCurve: [number, number][];
  /** At the end of the duration: events in the broker not read yet. */
  backlogAtEnd: number;
  /** At the end of the duration: events the producer offered that a write limit (Kinesis) has not let in yet. */
  heldByWriteLimitAtEnd: number;
  /** At the end of the duration: events read and not finished (source, queue, workers, nacked). */
  inProcessAtEnd: number;
  /** Events not finished when the drain ended. */
  leftAfterDrain: number;
  processed: number;
  dropped: number;
  deadLettered: number;
  retried: number;
  nacked: number;
  peakQueueDepth: number;
  pausedShare: number;
  pauses: number;
  memory: { peakEvents: number; bytesPerEvent: number; peakMB: number };
  verdict: { keepsUp: boolean; reason: string };
  series: SeriesPoint[];
  engine: { wallMs: number; eventsPerSecond: number };
}

export function summarize(scenario: Scenario, engine: Engine, wallMs: number): SimulationResult {
  const { config, durationS, warmupS } = scenario;
  const snapshot = engine.horizonSnapshot!;
  const offeredRate = meanRate(scenario.workload, durationS);
  const series = engine.series.points;
  const measured = series.filter((p) => p.t > warmupS && p.t <= durationS);
  const throughput = measured.length ? measured.reduce((sum, p) => sum + p.completed, 0) / measured.length : 0;
  const bytesPerEvent = scenario.messageSize + EVENT_OVERHEAD_BYTES;
  const backlogAtEnd = snapshot.backlog;
  const inProcessAtEnd = snapshot.unfinished;
  const result: SimulationResult = {
    broker: config.broker.type,
    queueSize: config.queue.maxEvents,
    poolSize: config.pool.size,
    policy: config.queue.policy,
    orderByKey: config.pool.orderByKey,
    partitions: partitionsOf(scenario),
    workload: scenario.workload.spec,
    serviceTime: scenario.service.spec,
    serviceTimeNote: scenario.service.note,
    failureRate: scenario.failureRate,
    keys: scenario.keys,
    keySkew: scenario.keySkew,
    messageSize: scenario.messageSize,
    durationS,
    seed: scenario.seed,
    offeredRate,
    sent: engine.broker.sent,
    throughput,
    latencyMs: engine.latency.percentilesMs(),
    latencyMeanMs: engine.latency.mean * 1000,
    latencyCurve: engine.latency.curveMs(),
    backlogAtEnd,
    heldByWriteLimitAtEnd: snapshot.heldByWriteLimit,
    inProcessAtEnd,
    leftAfterDrain: engine.broker.backlog + engine.inProcess,
    processed: engine.completed,
    dropped: engine.dropped,
    deadLettered: engine.deadLettered,
    retried: engine.retried,
    nacked: engine.nacked,
    peakQueueDepth: engine.peakQueueDepth,
    pausedShare: engine.pausedSeconds / Math.max(1e-9, engine.now),
    pauses: engine.pauses,
    memory: {
      peakEvents: engine.peakInProcess,
      bytesPerEvent,
      peakMB: (engine.peakInProcess * bytesPerEvent) / 2 ** 20,
    },
    verdict: { keepsUp: true, reason: '' },
    series,
    engine: { wallMs, eventsPerSecond: engine.broker.sent / (wallMs / 1000) },
  };
  result.verdict = verdict(result);
  return result;
}

/**
 * Keeps up: nothing dropped, and the events not finished at the end of the duration are no more
 * than about one second of the offered rate (what is in transit in a healthy pipeline), and the
 * backlog is not growing over the last third of the run.
 */
export function verdict(r: SimulationResult): { keepsUp: boolean; reason: string } {
  const reasons: string[] = [];
  if (r.dropped > 0) reasons.push(`${num(r.dropped)} events dropped by ${r.policy}`);
  const unfinished = r.backlogAtEnd + r.heldByWriteLimitAtEnd + r.inProcessAtEnd;
  const allowance = Math.max(r.offeredRate, r.queueSize / 10, 100);
  const tail = r.series.filter((p) => p.t > (r.durationS * 2) / 3 && p.t <= r.durationS);
  const growth =
    tail.length >= 2
      ? (tail[tail.length - 1]!.backlog + tail[tail.length - 1]!.queueDepth - tail[0]!.backlog - tail[0]!.queueDepth) / (tail.length - 1)
      : 0;
  if (unfinished > allowance) {
    const growing = growth > 0.01 * r.offeredRate ? `, growing ${num(growth)}/s` : '';
    const held = r.heldByWriteLimitAtEnd > 0 ? `, ${num(r.heldByWriteLimitAtEnd)} not yet let in by the broker's write limit` : '';
    reasons.push(
      `${num(unfinished)} events unfinished at the end (${num(r.backlogAtEnd)} in the broker, ${num(r.inProcessAtEnd)} read and not finished${held}${growing})`,
    );
  }
  if (reasons.length > 0) return { keepsUp: false, reason: reasons.join('; ') };
  return { keepsUp: true, reason: `throughput ${num(r.throughput)}/s for ${num(r.offeredRate)}/s offered, no drops, backlog drained` };
}

/** The terminal table: one row per simulated configuration, bench's columns where they exist. */
export function simulateTable(results: SimulationResult[]): string {
  return table(
    [
      'broker',
      'queue',
      'pool',
      'offered/s',
      'throughput/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'peak queue',
      'paused %',
      'backlog',
      'dropped',
      'dead-lettered',
      'memory MB',
      'keeps up',
    ],
    results.map((r) => [
      r.broker,
      num(r.queueSize),
      num(r.poolSize),
      num(r.offeredRate),
      num(r.throughput),
      ms(r.latencyMs.p50),
      ms(r.latencyMs.p90),
      ms(r.latencyMs.p99),
      ms(r.latencyMs.max),
      num(r.peakQueueDepth),
      (r.pausedShare * 100).toFixed(1),
      num(r.backlogAtEnd),
      num(r.dropped),
      num(r.deadLettered),
      r.memory.peakMB.toFixed(1),
      r.verdict.keepsUp ? 'yes' : 'no',
    ]),
  );
}
