// Where kafkajs' per-fetch loop time falls around the delivery of a fetch's records, measured in
// the bench consumer for simulate:validate's calibration (validate-calibrate.ts; the model charges
// the part before the delivery on the records' path and the part after it on the next request's:
// src/simulate/delivery-kafka.ts). Turned on by SLUICE_KAFKA_FETCH_PROFILE=<file>: the consumer
// process writes the samples there when production ends.
//
// kafkajs' instrumentation events cut each fetch cycle (runner.js fetch / handleBatch,
// socketRequest.js completed) into windows, and each window's event-loop active time is read
// with eventLoopUtilization at its ends:
//   send     FETCH_START → the loop's next check phase (setImmediate): building and writing the
//            request, the task that emitted FETCH_START;
//   request  FETCH_START → the Fetch response's bytes arrive: the send, then the wait for the
//            broker, in which the loop runs whatever else is due;
//   decode   response → first START_BATCH_PROCESS: the response's decode, the batches, the worker;
//   deliver  first START_BATCH_PROCESS → last END_BATCH_PROCESS: Sluice's eachBatch;
//   after    last END_BATCH_PROCESS → next FETCH_START: offsets, heartbeat, the fetcher's loop.
// Handler completions (the pool's timers, acks) can run in any window: each window's sample
// carries how many completed in it; the request window, with the wait, gives their cost.
import { performance } from 'node:perf_hooks';

export const WINDOWS = ['send', 'request', 'decode', 'deliver', 'after'] as const;
export type FetchWindow = (typeof WINDOWS)[number];

/** One window of one fetch cycle: loop active ms in it, its wall ms, and handler completions in it. */
export interface WindowSample {
  window: FetchWindow;
  activeMs: number;
  wallMs: number;
  completions: number;
}

/**
 * What the consumer writes: every fetch request sent (empty answers too), the cycles' windows,
 * and for the first events, the ms from each record's timestamp (CreateTime, whole ms) to its
 * handler's start: the fetch path's share of the latency, without the handler.
 */
export interface FetchProfile {
  fetches: number;
  samples: WindowSample[];
  startDelaysMs: number[];
}

/** Enough for a median, few enough to write at once. */
const MAX_START_DELAYS = 50_000;

interface Point {
  activeMs: number;
  wallMs: number;
  completions: number;
}

/**
 * Hooks every kafkajs consumer created from now on (Kafka.prototype.consumer) and collects the
 * windows of its fetch cycles; `completions()` counts the handler's completions so far. Cycles
 * with no batch (an empty fetch) are left out; with more than one broker node the fetchers' cycles
 * overlap, so only one node's are kept.
 */
export async function profileKafkaFetches(
  completions: () => number,
): Promise<{ profile: FetchProfile; started(delayMs: number): void; reset(): void; stop(): void }> {
  const { Kafka } = await import('kafkajs');
  const profile: FetchProfile = { fetches: 0, samples: [], startDelaysMs: [] };
  let recording = true;
  const point = (): Point => ({
    activeMs: performance.eventLoopUtilization().active,
    wallMs: performance.now(),
    completions: completions(),
  });
  const add = (window: FetchWindow, from: Point, to: Point) => {
    // The bench's recorder is replaced when production begins: its count starts again.
    if (to.completions < from.completions) return;
    profile.samples.push({
      window,
      activeMs: to.activeMs - from.activeMs,
      wallMs: to.wallMs - from.wallMs,
      completions: to.completions - from.completions,
    });
  };
  const original = Kafka.prototype.consumer;
  Kafka.prototype.consumer = function (this: InstanceType<typeof Kafka>, ...args: Parameters<typeof original>) {
    const consumer = original.apply(this, args);
    const { FETCH_START, REQUEST, START_BATCH_PROCESS, END_BATCH_PROCESS } = consumer.events;
    let node: number | undefined;
    let fetchStart: Point | undefined;
    let sent: Point | undefined;
    let response: Point | undefined;
    let firstBatch: Point | undefined;
    let lastBatchEnd: Point | undefined;
    let open = 0;
    consumer.on(FETCH_START, ({ payload }) => {
      const now = point();
      node ??= payload.nodeId;
      if (payload.nodeId !== node || !recording) return;
      profile.fetches++;
      if (fetchStart && response && firstBatch && lastBatchEnd && open === 0) {
        if (sent) add('send', fetchStart, sent);
        add('request', fetchStart, response);
        add('decode', response, firstBatch);
        add('deliver', firstBatch, lastBatchEnd);
        add('after', lastBatchEnd, now);
      }
      fetchStart = now;
      response = firstBatch = lastBatchEnd = sent = undefined;
      setImmediate(() => {
        if (fetchStart === now) sent = point();
      });
      open = 0;
    });
    consumer.on(REQUEST, ({ payload }) => {
      if (payload.apiName === 'Fetch' && fetchStart && !response) response = point();
    });
    consumer.on(START_BATCH_PROCESS, () => {
      open++;
      if (response && !firstBatch) firstBatch = point();
    });
    consumer.on(END_BATCH_PROCESS, () => {
      open--;
      lastBatchEnd = point();
    });
    return consumer;
  };
  return {
    profile,
    started: (delayMs) => {
      if (recording && profile.startDelaysMs.length < MAX_START_DELAYS) profile.startDelaysMs.push(Math.round(delayMs * 1000) / 1000);
    },
    reset: () => {
      profile.fetches = 0;
      profile.samples.length = 0;
      profile.startDelaysMs.length = 0;
    },
    stop: () => {
      recording = false;
    },
  };
}

/** Per-fetch loop ms of each window, per-completion ms, and the background share of wall time. */
export interface FetchLoopSplit {
  msPerFetch: Record<FetchWindow, number>;
  msPerCompletion: number;
  /** Loop time per ms of the request window's wall time that is neither (bench, timers, commits). */
  background: number;
  cycles: number;
  /** Share of the per-fetch time (send, decode, deliver, after) before the records are delivered (decode + deliver). */
  shareBefore: number;
}

/**
 * A completion's loop time from the request window, which holds the wait for the broker and so
 * whatever else the loop runs: least squares of activeMs = a + c × completions + b × wallMs there.
 * Every other window is one stretch of busy loop (wall ≈ active, completions rare): its mean
 * less c per completion. Below 0 (noise) is 0.
 */
export function fetchLoopSplit(samples: readonly WindowSample[]): FetchLoopSplit {
  const request = samples.filter((s) => s.window === 'request');
  const [a, c, b] = leastSquares(
    request.map((s) => [1, s.completions, s.wallMs]),
    request.map((s) => s.activeMs),
  );
  const perCompletion = Math.max(0, c);
  const msPerFetch = { request: Math.max(0, a) } as Record<FetchWindow, number>;
  for (const window of WINDOWS) {
    if (window === 'request') continue;
    const own = samples.filter((s) => s.window === window);
    const sum = own.reduce((total, s) => total + s.activeMs - perCompletion * s.completions, 0);
    msPerFetch[window] = own.length > 0 ? Math.max(0, sum / own.length) : 0;
  }
  const before = msPerFetch.decode + msPerFetch.deliver;
  const total = before + msPerFetch.send + msPerFetch.after;
  return {
    msPerFetch,
    msPerCompletion: perCompletion,
    background: Math.max(0, b),
    cycles: request.length,
    shareBefore: total > 0 ? before / total : 1,
  };
}

/** Ordinary least squares by the normal equations (three unknowns here); zeros when singular. */
export function leastSquares(rows: readonly number[][], y: readonly number[]): number[] {
  const k = rows[0]?.length ?? 0;
  const m = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (let r = 0; r < k; r++) {
      for (let col = 0; col < k; col++) m[r]![col]! += row[r]! * row[col]!;
      m[r]![k]! += row[r]! * y[i]!;
    }
  }
  for (let i = 0; i < k; i++) {
    let pivot = i;
    for (let r = i + 1; r < k; r++) if (Math.abs(m[r]![i]!) > Math.abs(m[pivot]![i]!)) pivot = r;
    [m[i], m[pivot]] = [m[pivot]!, m[i]!];
    if (Math.abs(m[i]![i]!) < 1e-12) return new Array<number>(k).fill(0);
    for (let r = i + 1; r < k; r++) {
      const f = m[r]![i]! / m[i]![i]!;
      for (let col = i; col <= k; col++) m[r]![col]! -= f * m[i]![col]!;
    }
  }
  const x = new Array<number>(k).fill(0);
  for (let i = k - 1; i >= 0; i--) {
    let sum = m[i]![k]!;
    for (let col = i + 1; col < k; col++) sum -= m[i]![col]! * x[col]!;
    x[i] = sum / m[i]![i]!;
  }
  return x;
}
