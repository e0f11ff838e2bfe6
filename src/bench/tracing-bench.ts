/**
 * `npm run bench:tracing`: what tracing costs the core. The throughput phase of bench:core (a
 * backlog in the memory broker drained through queue → pool → noop handler) with tracing off, at
 * 0 %, 1 % and 100 % sampling, interleaved round by round so that a noisy neighbour hurts each alike.
 * Spans are exported for real, over OTLP/HTTP (protobuf), to a sink in a child process that reads
 * and discards them (as a collector on the same host would take them). Events carry no
 * traceparent: the ratio decides for every one.
 *   npm run bench:tracing -- --events 500000 --rounds 5 [--work-us 20] [--user-handler]
 * Prints a table (median and best events/s per mode, CPU time per event, each median's cost
 * against off, and the median of each round's cost against off in that round) and one JSON
 * line last. The goal of issue #17: ≤ 10 % throughput cost at 1 %.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { OutgoingEvent } from '../broker/contract.ts';
import type { Handler } from '../handler/handler.ts';
import { configSchema } from '../config/schema.ts';
import { noopHandler } from '../handler/load.ts';
import type { EventTracer } from '../tracing/event-tracer.ts';
import type { ExportStats } from '../tracing/event-span.ts';
import type { OtelEventTracer } from '../tracing/otel-event-tracer.ts';
import { loadEventTracer } from '../tracing/load.ts';
import { say } from './bench-support.ts';
import { drain, lastingPipeline, memoryBroker } from './core-bench.ts';
import { table } from './table.ts';
import { median } from '../util/median.ts';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    rounds: { type: 'string', default: '5' },
    'work-us': { type: 'string', default: '0' },
    /** Comma-separated subset of off,0,1,10,100 (default without 10; e.g. `--modes 1` to profile one mode with --cpu-prof). */
    modes: { type: 'string', default: 'off,0,1,100' },
    /** Run the handler as a user's module runs: its span the active context (PipelineParts.activeSpan). */
    'user-handler': { type: 'boolean', default: false },
  },
});
const EVENTS = Number(args.events);
const ROUNDS = Number(args.rounds);
/** CPU work per event in the handler, µs (0: the noop handler of bench:core). */
const WORK_US = Number(args['work-us']);

/** A handler that spins for WORK_US µs: a stand-in for a handler that parses and validates. */
const handler: Handler =
  WORK_US > 0
    ? () => {
        const until = performance.now() + WORK_US / 1000;
        while (performance.now() < until);
      }
    : noopHandler;
const ALL_MODES = [
  { name: 'off', ratio: undefined },
  // On, nothing sampled: the fixed cost of the sampling decision and the untraced path.
  { name: '0 %', ratio: 0 },
  { name: '1 %', ratio: 0.01 },
  { name: '10 %', ratio: 0.1 },
  { name: '100 %', ratio: 1 },
] as const;
const wanted = new Set(args.modes.split(',').map((mode) => mode.trim().replace(/\s*%$/, '')));
const MODES = ALL_MODES.filter((mode) => wanted.has(mode.name.replace(/\s*%$/, '')));

/**
 * An OTLP/HTTP sink in a child process: 200 to every export, bodies read and dropped. It answers
 * an IPC message with the bytes received so far: the bench prints what each mode exported, since
 * the batch processor drops spans when its queue is full (see the README).
 */
async function startSink(): Promise<{ child: ChildProcess; url: string }> {
  const script = `let bytes = 0; process.on('message', () => process.send(bytes)); require('node:http').createServer((q, s) => { q.on('data', (c) => { bytes += c.length; }); q.on('end', () => { s.writeHead(200, { 'content-type': 'application/x-protobuf' }); s.end(); }); }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
  return { child, url: `http://127.0.0.1:${port}/v1/traces` };
}

/** Bytes the sink has received so far. */
function sinkBytes(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (bytes) => resolve(Number(bytes)));
    child.send('bytes');
  });
}

async function main(): Promise<void> {
  const logger = pino({ level: 'error' });
  const sink = await startSink();
  const payload = Buffer.alloc(100, 'x');
  const batch: OutgoingEvent[] = Array.from({ length: 10_000 }, (_, i) => ({ key: `key-${i % 1000}`, payload }));
  const samples = new Map<string, number[]>(MODES.map((mode) => [mode.name, []]));
  const cpuSamples = new Map<string, number[]>(MODES.map((mode) => [mode.name, []]));
  const mainSamples = new Map<string, number[]>(MODES.map((mode) => [mode.name, []]));
  const kbSamples = new Map<string, number[]>(MODES.map((mode) => [mode.name, []]));
  const newTracer = (ratio: number | undefined) =>
    loadEventTracer(
      configSchema.parse({ tracing: { enabled: ratio !== undefined, sampleRatio: ratio ?? 0.01, endpoint: sink.url } }).tracing,
      'memory',
      logger,
      {},
    );
  // One tracer and one pipeline per mode for all counted rounds, as a running Sluice has one of
  // each for its life: a tracer's start (its export thread loading the OTLP exporter, and that
  // exporter's HTTP transport at its first export) is a once-per-process cost, and a pipeline
  // built per round measured V8 more than the code (lastingPipeline in core-bench.ts: the last
  // round's optimized code thrown away at the next GC, "embedded weak objects cleared"; 1 % and
  // even 0 % looked 15-30 % slower in some rounds and not in others).
  const tracers = new Map<number | undefined, EventTracer | undefined>();
  const threadUsPerSpan = new Map<number | undefined, number>();
  const exportBaseline = new Map<number | undefined, ExportStats>();
  const backlog: OutgoingEvent[] = Array.from({ length: EVENTS }, (_, i) => batch[i % batch.length]!);
  say(
    `bench:tracing: ${EVENTS.toLocaleString('en-US')} events per run, ${ROUNDS} rounds, handler ${WORK_US > 0 ? `${WORK_US} µs of CPU` : 'noop'}${args['user-handler'] ? ' run as a user module (its span the active context)' : ' run as a built-in'}, spans exported to ${sink.url}`,
  );
  const pipelines = new Map<string, Awaited<ReturnType<typeof lastingPipeline>>>();
  try {
    // A process that has run for a while has compiled the tracing and export code once (about
    // 0.3 s of CPU, most of it V8's compiler threads); at 1 % a warm-up traces too few events
    // for that, and the compilation would land on the counted rounds as if it were a cost per
    // event. So first one short drain traces every event, on a throwaway tracer.
    if (MODES.some((mode) => mode.ratio !== undefined)) {
      const warm = await memoryBroker('bench', 50_001);
      const warmTracer = await newTracer(1);
      const publisher = warm.createPublisher();
      await publisher.publish('bench', backlog.slice(0, 50_000));
      await drain(warm, 50_000, handler, logger, warmTracer);
      await warm.createAdmin().deleteDestination('bench');
    }
    for (const mode of MODES) {
      const tracer = await newTracer(mode.ratio);
      tracers.set(mode.ratio, tracer);
      const broker = await memoryBroker('bench', 2 * EVENTS + 1);
      const pipeline = await lastingPipeline(broker, 'bench', handler, logger, tracer, args['user-handler']);
      pipelines.set(mode.name, pipeline);
      await pipeline.drainNext(backlog, () => undefined); // warm, uncounted
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000)); // the warm-up's spans exported: the transport is loaded
    for (const [ratio, tracer] of tracers) {
      // The export thread's counts from here on: its start-up (module loading) is not per span.
      const stats = (tracer as OtelEventTracer | undefined)?.exportStats();
      if (stats !== undefined) exportBaseline.set(ratio, stats);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      // The order turns each round: no mode always runs after the same other one.
      for (const mode of MODES.map((_, i) => MODES[(i + round) % MODES.length]!)) {
        global.gc?.();
        const bytesBefore = await sinkBytes(sink.child);
        const result = await pipelines
          .get(mode.name)!
          .drainNext(backlog, () => ({ cpu: process.cpuUsage(), main: process.threadCpuUsage() }));
        const used = process.cpuUsage(result.measured.cpu);
        const mainUsed = process.threadCpuUsage(result.measured.main);
        // This round's spans exported before the next round starts: the export thread's work
        // for them is this mode's, not the next mode's (spans of a 100 % round exported during
        // the next round, off, made off look slower).
        await (tracers.get(mode.ratio) as OtelEventTracer | undefined)?.flush();
        const exportedKb = ((await sinkBytes(sink.child)) - bytesBefore) / 1024;
        const cpuNs = ((used.user + used.system) * 1000) / EVENTS;
        samples.get(mode.name)!.push(result.eventsPerSecond);
        // The main thread's CPU alone: the rest of the process's is V8's compiler and GC threads.
        const mainNs = ((mainUsed.user + mainUsed.system) * 1000) / EVENTS;
        cpuSamples.get(mode.name)!.push(cpuNs);
        mainSamples.get(mode.name)!.push(mainNs);
        kbSamples.get(mode.name)!.push(exportedKb);
        say(
          `  round ${round} ${mode.name.padEnd(5)} ${Math.round(result.eventsPerSecond).toLocaleString('en-US')} events/s, ${Math.round(cpuNs)} ns CPU/event (main thread ${Math.round(mainNs)}), ${Math.round(exportedKb).toLocaleString('en-US')} KiB exported`,
        );
      }
    }
    // The export thread's CPU per span over the counted rounds: what tracing costs beside the
    // event loop. Its last exports wait up to exportDelayMs.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const [ratio, tracer] of tracers) {
      const stats = (tracer as OtelEventTracer | undefined)?.exportStats();
      const before = exportBaseline.get(ratio);
      if (stats === undefined || before === undefined || stats.exported === before.exported) continue;
      threadUsPerSpan.set(ratio, (stats.threadCpuMicros - before.threadCpuMicros) / (stats.exported - before.exported));
    }
  } finally {
    // A pipeline's stop shuts its tracer down (its last spans exported), as in a running Sluice.
    for (const pipeline of pipelines.values()) await pipeline.stop();
    sink.child.kill();
  }
  // Wall-clock throughput swings with the neighbours on a shared machine; the process's CPU time
  // per event (user + system, GC threads included) is the steadier measure of what tracing adds.
  // Without the off mode (--modes) there is no baseline: the cost columns read NaN.
  const off = samples.has('off') ? median(samples.get('off')!) : Number.NaN;
  const offCpu = cpuSamples.has('off') ? median(cpuSamples.get('off')!) : Number.NaN;
  // Each round's cost against off in the same round (the modes run back to back, so they met
  // the same neighbours): the median of those is steadier than the ratio of two medians when the
  // machine's load drifts over the run.
  const offRounds = samples.get('off');
  const paired = (name: string) =>
    offRounds === undefined ? Number.NaN : median(samples.get(name)!.map((value, round) => 1 - value / offRounds[round]!));
  const rows = MODES.map((mode) => {
    const values = samples.get(mode.name)!;
    const cpu = median(cpuSamples.get(mode.name)!);
    const traced = mode.ratio !== undefined;
    return [
      mode.name,
      Math.round(median(values)).toLocaleString('en-US'),
      Math.round(Math.max(...values)).toLocaleString('en-US'),
      traced ? `${(((off - median(values)) / off) * 100).toFixed(1)} %` : '—',
      traced ? `${(paired(mode.name) * 100).toFixed(1)} %` : '—',
      Math.round(cpu),
      traced ? `${(((cpu - offCpu) / offCpu) * 100).toFixed(1)} %` : '—',
      Math.round(median(mainSamples.get(mode.name)!)),
      Math.round(median(kbSamples.get(mode.name)!)).toLocaleString('en-US'),
      threadUsPerSpan.has(mode.ratio) ? threadUsPerSpan.get(mode.ratio)!.toFixed(1) : '—',
    ];
  });
  say(
    table(
      [
        'tracing',
        'events/s, median',
        'best',
        'throughput cost',
        'paired cost',
        'CPU ns/event, median',
        'CPU cost',
        'main thread ns/event',
        'KiB exported',
        'export thread µs/span',
      ],
      rows,
    ),
  );
  say(
    `load at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  process.stdout.write(
    `${JSON.stringify({ events: EVENTS, rounds: ROUNDS, eventsPerSecond: Object.fromEntries(samples), cpuNsPerEvent: Object.fromEntries(cpuSamples), mainThreadNsPerEvent: Object.fromEntries(mainSamples), exportedKiB: Object.fromEntries(kbSamples) })}\n`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
