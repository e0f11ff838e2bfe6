// `npm run simulate:validate [-- --quick] [-- --only a,b] [-- --out file.json]`: every scenario of
// validate-scenarios.ts both ways, a real `sluice bench` run (runBroker: the same code path) and
// `sluice simulate` on the same config, workload and keys, then predicted against measured with
// the errors. The last line printed is one JSON object: the worst error per metric. A script for
// people (and issue #15's closing note), not a CI gate: the figures need a quiet machine, and the
// load average is printed with them.
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { resolveBroker } from '../bench/broker-spec.ts';
import { dropHarmlessWarnings } from '../cli/harmless-warnings.ts';
import { type BrokerRun, runBroker } from '../bench/run-broker.ts';
import { parseModelParams } from './model-params.ts';
import { summarize } from './results.ts';
import { runScenario, type Scenario } from './scenario.ts';
import type { ServiceTime } from './service-time.ts';
import { measureDeliveredWork, measureWork, measuredService } from './timer-work.ts';
import { calibrateLoop, type LoopCalibration } from './validate-calibrate.ts';
import { type Comparison, compare, comparisonTable, worst } from './validate-compare.ts';
import { benchFigures, SCENARIOS, simFigures, TIMING, type ValidateScenario } from './validate-scenarios.ts';
import { meanRate, parseWorkload } from './workload.ts';

// kafkajs' negative-timeout warning would land in the middle of the table (as `sluice bench` drops it).
dropHarmlessWarnings();
const args = process.argv.slice(2);
const flag = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const quick = args.includes('--quick');
const only = flag('--only')?.split(',');
const out = flag('--out');
/** Leave the event loop out of the model (to see what it changes). */
const noLoop = args.includes('--no-loop');
/** Leave GC pauses out of the model. */
const noGc = args.includes('--no-gc');
const timing = quick ? TIMING.quick : TIMING.full;
const chosen = SCENARIOS.filter((s) => !only || only.includes(s.name));
if (chosen.length === 0)
  throw new Error(`--only: no scenario named ${only?.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const log = (line: string) => process.stderr.write(`${line}\n`);

/** The bench's run: the same path as `sluice bench --brokers <broker> --workload … --work …`. */
function bench(s: ValidateScenario): Promise<BrokerRun> {
  return runBroker(
    s.broker,
    {
      rate: meanRate(parseWorkload(s.workload), timing.warmupS + timing.durationS),
      spec: s.workload,
      seed: 1,
      durationS: timing.durationS,
      warmupS: timing.warmupS,
      messageSize: 1024,
      keys: s.keys,
      keySkew: s.keySkew,
      partitions: 4,
      work: s.work,
      queueSize: s.queue,
      poolSize: s.pool,
      drainTimeoutS: 30,
    },
    { set: s.set },
  );
}

/** The model's run: the bench's own config (profile + --set + queue/pool), its keys and timing. */
async function simulate(s: ValidateScenario, run: BrokerRun, service: ServiceTime, loop: LoopCalibration) {
  const { config } = await resolveBroker(s.broker, undefined, '--brokers', [...s.set, `queue.maxEvents=${s.queue}`, `pool.size=${s.pool}`]);
  const scenario: Scenario = {
    config,
    workload: parseWorkload(s.workload),
    service,
    failureRate: 0,
    keys: s.keys,
    keySkew: s.keySkew,
    messageSize: 1024,
    durationS: timing.warmupS + timing.durationS,
    warmupS: timing.warmupS,
    // The bench drains for up to its drain timeout; the model likewise finishes what is left.
    drainS: 30,
    seed: 1,
    model: parseModelParams(s.broker, [
      `loopUsPerEvent=${noLoop ? 0 : loop.usPerEvent}`,
      `loopUsPerFetch=${noLoop ? 0 : loop.usPerFetch}`,
      `loopFetchShareBefore=${loop.fetchShareBefore}`,
      ...(loop.latencyMs === undefined ? [] : [`latencyMs=${loop.latencyMs}`]),
      ...(noGc || loop.gcPausesMs.length === 0 ? [] : [`gcPerEvent=${loop.gcPerEvent}`, `gcPausesMs=${loop.gcPausesMs.join(',')}`]),
      ...(s.broker === 'kafka' ? [`partitions=${run.workload.partitions}`] : []),
    ]),
  };
  const { engine, wallMs } = runScenario(scenario);
  return summarize(scenario, engine, wallMs);
}

const comparisons: Comparison[] = [];
const records: unknown[] = [];
log(
  `simulate:validate: ${chosen.length} scenarios, ${timing.warmupS} s warm-up + ${timing.durationS} s measured each; load average ${load()}`,
);
const gcSummary = (pauses: number[]) => {
  const sorted = [...pauses].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0);
  return `${total.toFixed(0)} ms in all, longest ${(sorted.at(-1) ?? 0).toFixed(1)} ms`;
};
/** The profiled fetch cycle's windows (ms per fetch) and the per-completion ms taken out of them. */
const fetchWindows = ({ fetchProfile: p }: LoopCalibration) =>
  p
    ? `${Object.entries(p.msPerFetch)
        .map(([w, ms]) => `${w} ${(ms * 1000).toFixed(0)} µs`)
        .join(
          ', ',
        )}, ${(p.msPerCompletion * 1000).toFixed(0)} µs per completion, ${(p.background * 100).toFixed(1)} % background, ${p.cycles} cycles`
    : '';
const loops = new Map<string, LoopCalibration>();
for (const broker of new Set(chosen.map((s) => s.broker))) {
  const loop = await calibrateLoop(broker, timing);
  loops.set(broker, loop);
  log(
    `${broker}: event loop ${loop.usPerEvent.toFixed(0)} µs per event${loop.usPerFetch > 0 ? ` + ${loop.usPerFetch.toFixed(0)} µs per fetch (${(loop.fetchShareBefore * 100).toFixed(0)} % before its delivery${loop.fetchProfile ? `: ${fetchWindows(loop)}` : ''})` : ''}${loop.latencyMs === undefined ? '' : `, fetch latency ${loop.latencyMs.toFixed(2)} ms one way (fitted to the measured path to the handler, median ${loop.pathMs?.toFixed(2)} ms; ${loop.split?.[0]?.fetches} fetches)`} besides GC (busy ${(loop.loopBusyShare * 100).toFixed(1)} % at ${loop.rate}/s, cpu ${loop.cpuPercent} %); ${loop.gcPausesMs.length} GC pauses (${gcSummary(loop.gcPausesMs)}), load ${load()}`,
  );
}
// Each handler's sleeps measured once, before any scenario, so scenarios with the same --work
// draw from the same measurement (a load spike during one short measurement once made fixed:2
// average 3.3 ms for one scenario and 2.3 ms for the next).
const sleeps = new Map<string, ServiceTime>();
for (const work of new Set(chosen.map((s) => s.work))) {
  const measured = measuredService(`timer:${work}`, await measureDeliveredWork(work, 6000), await measureWork(work, 6000));
  sleeps.set(work, measured);
  log(`${measured.note}, load ${load()}`);
}
for (const s of chosen) {
  const service = sleeps.get(s.work)!;
  const loadBefore = load();
  const started = Date.now();
  const run = await bench(s);
  if (run.error) {
    log(`${s.name}: bench failed: ${run.error}`);
    records.push({ scenario: s, error: run.error });
    continue;
  }
  const result = await simulate(s, run, service, loops.get(s.broker)!);
  const offered = meanRate(parseWorkload(s.workload), timing.warmupS + timing.durationS);
  const comparison = compare(s.name, simFigures(result), benchFigures(run, offered, s.queue));
  comparisons.push(comparison);
  records.push({
    scenario: s,
    loadAverage: { before: loadBefore, after: load() },
    comparison,
    serviceTime: result.serviceTimeNote,
    bench: {
      latencyMs: run.latencyMs,
      fromBrokerMs: run.fromBrokerMs,
      cpuPercent: run.cpuPercent,
      loopBusyShare: run.loopBusyShare,
      // against the calibration's, which the model draws from
      gcPauses: run.gcPausesMs?.length ?? 0,
      gcPausesMs: gcSummary(run.gcPausesMs ?? []),
    },
  });
  log(
    `${s.name} (${s.why}): ${Math.round((Date.now() - started) / 1000)} s, load ${loadBefore} → ${load()}; bench GC ${run.gcPausesMs?.length ?? 0} pauses (${gcSummary(run.gcPausesMs ?? [])})`,
  );
  log(comparisonTable([comparison]).split('\n').slice(-1)[0]!);
}

const summary = worst(comparisons);
process.stdout.write(`${comparisonTable(comparisons)}\n`);
process.stdout.write(
  `goals: throughput within 5 %, p50 within 20 %, p99 within 30 %, keeps up always right, dropped within 10 % (✗: missed); load average ${load()}\n`,
);
process.stdout.write(
  'latency: bench from the broker timestamp (less 0.5 ms: whole-ms timestamps), simulate from the append; the handler is the bench’s setTimeout sleep, measured here first\n',
);
const calibration = Object.fromEntries(loops);
if (out) await writeFile(out, `${JSON.stringify({ quick, timing, loadAverage: load(), calibration, summary, records }, null, 2)}\n`);
const loopUs = Object.fromEntries([...loops].map(([b, l]) => [b, Math.round(l.usPerEvent)]));
const fetchUs = Object.fromEntries([...loops].filter(([, l]) => l.usPerFetch > 0).map(([b, l]) => [b, Math.round(l.usPerFetch)]));
const gcPerThousand = Object.fromEntries([...loops].map(([b, l]) => [b, Math.round(l.gcPerEvent * 1e5) / 100]));
process.stdout.write(
  `${JSON.stringify({ ...summary, loopUsPerEvent: noLoop ? 0 : loopUs, loopUsPerFetch: noLoop ? 0 : fetchUs, gcPausesPer1000Events: noGc ? 0 : gcPerThousand, loadAverage: load(), quick })}\n`,
);
process.exit(0);
