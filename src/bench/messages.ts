import type { FailedRange, ProducerOptions, ProducerReport } from './producer.ts';
import type { DeliverySummary } from './recorder.ts';
import type { ProducerCounts } from './sampling.ts';

/** Orchestrator ↔ benchmark child processes (IPC). */
export interface ConsumerStart {
  type: 'start';
  /** The raw Sluice config (validated again in the child). */
  config: unknown;
  work: string;
}

/** Production starts: where the clock of the run begins, and the end of the warm-up. */
export interface ConsumerBegin {
  type: 'begin';
  startMs: number;
  warmupEndMs: number;
  /** Memory broker only: the producer runs in a worker thread of the consumer process. */
  producer?: ProducerOptions & { destination: string };
}

export interface ConsumerDrain {
  type: 'drain';
  taken: number;
  failedRanges: FailedRange[];
  /** Stop waiting when nothing new arrived for this long. */
  quietMs: number;
  timeoutMs: number;
}

export type ToConsumer = ConsumerStart | ConsumerBegin | ConsumerDrain | { type: 'stop' };

export interface ConsumerResult {
  summary: DeliverySummary;
  latency: string;
  /** The same, from the broker's timestamp (recorder.ts fromBrokerUs). */
  fromBroker: string;
  perSecond: number[];
  cpuPercent: number;
  peakRssMB: number;
  /** Share of wall time the consumer's event loop was busy while production ran (eventLoopUtilization). */
  loopBusyShare: number;
  /** Every GC pause (ms) while production ran. */
  gcPausesMs: number[];
  processing: { success: number; failed: number; deadLettered: number; pausedSeconds: number };
  /** How the drain ended: every event arrived, none arrived for a while, or the timeout cut it. */
  drain: DrainEnd;
}

/**
 * `timeout`: events were still arriving when `--drain-timeout` ran out, so the missing ones are
 * late (the configuration does not keep up), not known to be lost; `quiet`: nothing arrived for
 * the quiet period, so the missing ones are not coming.
 */
export interface DrainEnd {
  ended: 'complete' | 'quiet' | 'timeout';
  seconds: number;
}

export type FromConsumer =
  | { type: 'ready' }
  | { type: 'progress'; at: number; received: number; unique: number; queueDepth: number }
  | ({ type: 'producer-progress' } & ProducerCounts)
  | { type: 'producer-done'; report: ProducerReport }
  | { type: 'result'; result: ConsumerResult }
  | { type: 'error'; message: string };

export interface ProducerStart {
  type: 'start';
  brokerType: string;
  section: unknown;
  destination: string;
  /** `startMs` comes with `go`. */
  options: ProducerOptions;
}

/** Every producer is connected: production starts at `startMs`. */
export interface ProducerGo {
  type: 'go';
  startMs: number;
}

export type FromProducer =
  | { type: 'ready' }
  | ({ type: 'progress' } & ProducerCounts)
  | { type: 'done'; report: ProducerReport }
  | { type: 'error'; message: string };
