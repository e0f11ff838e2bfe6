/**
 * The consumer side of `sluice bench`: the real Sluice pipeline (config, adapter, queue, pool),
 * with a handler that records each event and simulates work. Started by the orchestrator with
 * IPC; reports progress and, after the drain, its result.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { Sluice } from '../app.ts';
import type { Publisher } from '../broker/contract.ts';
import { benchAdapter } from './bench-adapters.ts';
import { validateConfig } from '../config/load.ts';
import { dropHarmlessWarnings } from '../cli/harmless-warnings.ts';
import { errorMessage } from '../errors.ts';
import type { ConsumerBegin, ConsumerDrain, ConsumerStart, DrainEnd, FromConsumer, ToConsumer } from './messages.ts';
import type { ProducerOptions, ProducerReport } from './producer.ts';
import { mergeReports, SummedCounts } from './producer-split.ts';
import { parseWork, workFunction } from './rate.ts';
import { DeliveryRecorder, encodeHistogram } from './recorder.ts';
import { nowMs } from './stamp.ts';
import { profileKafkaFetches } from './kafka-fetch-profile.ts';
import { writeFileSync } from 'node:fs';
import { compiled, moduleUrl } from '../util/runtime.ts';

const send = (message: FromConsumer) => process.send!(message);
// kafkajs' negative-timeout warning would break the parent's progress line (as `sluice run` drops it).
dropHarmlessWarnings();
let sluice: Sluice | undefined;
/** Memory broker: the in-process broker Sluice reads (the shared one), for the producer threads' batches. */
let memoryPublisher: Publisher | undefined;
let recorder: DeliveryRecorder | undefined;
let cpuStart = process.cpuUsage();
let wallStart = performance.now();
let peakRss = 0;
/** Event-loop utilization since `begin`, read when production ends (before the idle drain). */
let loopStart = performance.eventLoopUtilization();
let loopBusyShare = 0;
/**
 * GC pauses (ms) while production ran: every pause stops the one loop, so simulate:validate
 * measures them here (validate-calibrate.ts) for the model's GC input.
 */
let gcPausesMs: number[] = [];
let gcRecording = false;
new PerformanceObserver((list) => {
  if (gcRecording) for (const entry of list.getEntries()) gcPausesMs.push(Math.round(entry.duration * 1000) / 1000);
}).observe({ entryTypes: ['gc'] });
const producerThreads: Worker[] = [];
/** simulate:validate's calibration: kafkajs' fetch cycles profiled into this file (kafka-fetch-profile.ts). */
const fetchProfileFile = process.env.SLUICE_KAFKA_FETCH_PROFILE;
let fetchProfile: Awaited<ReturnType<typeof profileKafkaFetches>> | undefined;

async function start(message: ConsumerStart): Promise<void> {
  const config = await validateConfig(message.config);
  if (fetchProfileFile && config.broker.type === 'kafka') fetchProfile = await profileKafkaFetches(() => recorder?.received ?? 0);
  // Replaced at `begin`; until then (a fresh destination) nothing should arrive.
  recorder = new DeliveryRecorder(nowMs(), nowMs());
  const work = workFunction(parseWork(message.work));
  const handler = (event: { payload: Buffer; timestamp: number }) => {
    fetchProfile?.started(nowMs() - event.timestamp);
    const result = work();
    if (result) return result.then(() => recorder!.record(event.payload, nowMs(), event.timestamp));
    recorder!.record(event.payload, nowMs(), event.timestamp);
  };
  sluice = await Sluice.create(config, pino({ level: 'warn' }), { handler: handler as never });
  if (config.broker.type === 'memory') memoryPublisher = (await benchAdapter('memory', config.broker.memory)).adapter.createPublisher();
  await sluice.start();
  send({ type: 'ready' });
}

function begin(message: ConsumerBegin): void {
  recorder = new DeliveryRecorder(message.startMs, message.warmupEndMs);
  cpuStart = process.cpuUsage();
  wallStart = performance.now();
  loopStart = performance.eventLoopUtilization();
  gcPausesMs = [];
  gcRecording = true;
  fetchProfile?.reset();
  peakRss = process.memoryUsage().rss;
  setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    send({
      type: 'progress',
      at: nowMs(),
      received: recorder!.received,
      unique: recorder!.uniqueSoFar,
      queueDepth: sluice!.pipeline.queue.depth,
    });
  }, 250).unref();
  if (message.producer) {
    // Several threads split one sequence space (producer-split.ts); their counts and reports add up here.
    const { parts } = message.producer;
    const counts = new SummedCounts(parts);
    const reports: ProducerReport[] = [];
    for (let part = 0; part < parts; part++) {
      startProducerThread(
        { ...message.producer, part },
        (progress) => send({ type: 'producer-progress', ...counts.update(part, progress) }),
        (report) => {
          reports.push(report);
          if (reports.length === parts) send({ type: 'producer-done', report: mergeReports(reports) });
        },
      );
    }
  }
}

/** Memory broker: the producer is a worker thread; its batches are published here, in process. */
function startProducerThread(
  options: ProducerOptions & { destination: string },
  onProgress: (counts: { at: number; published: number; confirmed: number }) => void,
  onDone: (report: ProducerReport) => void,
): void {
  // Compiled, the thread runs producer-thread-main.js itself; from the sources it needs the
  // .mjs shim that registers tsx (worker threads do not inherit the parent's loader).
  const entry = compiled ? moduleUrl('./producer-thread-main.ts', import.meta.url) : new URL('./producer-thread.mjs', import.meta.url);
  const producerThread = new Worker(entry, { workerData: options });
  producerThreads.push(producerThread);
  producerThread.on(
    'message',
    async (message: {
      type: string;
      id?: number;
      events?: { key?: string; payload: Uint8Array }[];
      at?: number;
      published?: number;
      confirmed?: number;
      report?: unknown;
    }) => {
      if (message.type === 'publish') {
        const events = message.events!.map((event) => ({
          key: event.key,
          payload: Buffer.from(event.payload.buffer, event.payload.byteOffset, event.payload.byteLength),
        }));
        await memoryPublisher!.publish(options.destination, events);
        producerThread.postMessage({ type: 'published', id: message.id });
      } else if (message.type === 'progress') onProgress({ at: message.at!, published: message.published!, confirmed: message.confirmed! });
      else if (message.type === 'done') onDone(message.report as ProducerReport);
    },
  );
  producerThread.on('error', (error) => send({ type: 'error', message: `producer thread: ${errorMessage(error)}` }));
}

async function drain(message: ConsumerDrain): Promise<void> {
  loopBusyShare = performance.eventLoopUtilization(loopStart).utilization;
  gcRecording = false;
  if (fetchProfile && fetchProfileFile) {
    fetchProfile.stop();
    writeFileSync(fetchProfileFile, JSON.stringify(fetchProfile.profile));
  }
  const rec = recorder!;
  const deadline = Date.now() + message.timeoutMs;
  let last = -1;
  let lastChange = Date.now();
  const startedAt = Date.now();
  let ended: DrainEnd['ended'] = 'timeout';
  const expected = message.taken - message.failedRanges.reduce((sum, [, count]) => sum + count, 0);
  while (Date.now() < deadline) {
    const unique = rec.uniqueSoFar;
    if (unique >= expected) {
      ended = 'complete';
      break;
    }
    if (unique !== last) {
      last = unique;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > message.quietMs) {
      ended = 'quiet';
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const cpu = process.cpuUsage(cpuStart);
  const wallMs = performance.now() - wallStart;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const stats = sluice!.pipeline.stats;
  send({
    type: 'result',
    result: {
      summary: rec.summary(message.taken, message.failedRanges),
      latency: encodeHistogram(rec.latencyUs),
      fromBroker: encodeHistogram(rec.fromBrokerUs),
      perSecond: rec.perSecond,
      cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 100),
      peakRssMB: Math.round(peakRss / 1024 / 1024),
      loopBusyShare,
      gcPausesMs,
      processing: {
        success: stats.processed.success,
        failed: stats.processed.failed,
        deadLettered: stats.processed.dead_lettered,
        pausedSeconds: stats.pausedSeconds,
      },
      drain: { ended, seconds: Math.round((Date.now() - startedAt) / 100) / 10 },
    },
  });
}

process.on('message', (message: ToConsumer) => {
  const run = async () => {
    if (message.type === 'start') await start(message);
    else if (message.type === 'begin') begin(message);
    else if (message.type === 'drain') await drain(message);
    else if (message.type === 'stop') {
      await Promise.all(producerThreads.map((thread) => thread.terminate()));
      await sluice?.stop();
      process.exit(0);
    }
  };
  run().catch((error: unknown) => {
    send({ type: 'error', message: errorMessage(error) });
  });
});
