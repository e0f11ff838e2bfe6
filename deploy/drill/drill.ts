// `npm run drill [--quick] [--brokers kafka,kinesis,pubsub] [--kafka-client kafkajs|platformatic] [--faults …] [--repeat 3] [--out drill.json] [--report drill.html]`
//
// Issue #13 item 4: inject each fault into a Sluice under steady load and measure, with a real
// Prometheus and Alertmanager, how long the intended alert takes to page (detect) and how long
// the pipeline takes to be healthy again once the fault is gone (recover), and that no event was
// lost. Everything runs on 127.0.0.1 under .sluice/drill/ and is stopped by pid at the end, also
// on failure or Ctrl-C. Exits non-zero when an event is lost, a run fails, or (--quick) a fault is
// not detected; goals missed in the full table are findings, printed and kept in the JSON.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dropHarmlessWarnings } from '../../src/cli/harmless-warnings.ts';
import { freePort } from '../../test/sluice-cli.ts';
import { brokersDown, brokersUp } from '../local/broker-manager.ts';
import type { BrokerName } from '../local/endpoints.ts';
import { repoRoot } from '../local/paths.ts';
import { Toxiproxy } from '../local/toxiproxy.ts';
import { DRILL_BROKERS, type DrillBroker, type DrillBrokerName, kafkaBroker, kinesisBroker, pubsubBroker } from './drill-brokers.ts';
import { type DrillFault, selectFaults } from './drill-faults.ts';
import { renderHtmlPage, renderTable, summarise } from './drill-report.ts';
import { type DrillRow, type DrillSettings, emptyRow, runDrill } from './drill-run.ts';
import { GROUP_WAIT, Monitoring } from './monitoring.ts';
import { AlertWebhook } from './webhook.ts';

/**
 * --quick: one fault per broker, the one that exercises the most: a cut link (adapter, proxy,
 * rules, pager, redelivery after it). On Pub/Sub the client retries a cut stream silently; the
 * adapter's reachability probe is what turns the cut into SluiceNotReady.
 */
const QUICK_FAULT: Record<DrillBrokerName, string> = { kafka: 'unreachable', kinesis: 'unreachable', pubsub: 'unreachable' };

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    brokers: { type: 'string' },
    faults: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    out: { type: 'string' },
    report: { type: 'string' },
    parallel: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    /** The Kafka client of the kafka lane: kafkajs (the default, as Sluice's) or platformatic. */
    'kafka-client': { type: 'string', default: 'kafkajs' },
  },
});

dropHarmlessWarnings(); // kafkajs' TimeoutNegativeWarning, as `sluice` does

const log = (msg: string) => console.error(`[drill ${new Date().toISOString().slice(11, 19)}] ${msg}`);

function selectBrokers(list: string | undefined): DrillBrokerName[] {
  if (!list) return [...DRILL_BROKERS];
  const names = list.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(DRILL_BROKERS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`--brokers: unknown ${unknown.join(', ')} (known: ${DRILL_BROKERS.join(', ')})`);
  return DRILL_BROKERS.filter((name) => names.includes(name));
}

const brokerNames = selectBrokers(args.brokers);
const faults: DrillFault[] = selectFaults(args.faults);
const faultsOf = (broker: DrillBrokerName): DrillFault[] => (args.quick && !args.faults ? selectFaults(QUICK_FAULT[broker]) : faults);
const kafkaClient = ((client: string): 'kafkajs' | 'platformatic' => {
  if (client !== 'kafkajs' && client !== 'platformatic') throw new Error(`--kafka-client: expected kafkajs or platformatic, got ${client}`);
  return client;
})(args['kafka-client']);
const repeat = Number(args.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: expected a whole number ≥ 1, got ${args.repeat}`);

const dir = join(repoRoot, '.sluice', 'drill', `run-${process.pid}`);
const settings: DrillSettings = {
  dir,
  // 20 events/s into a pipeline that handles about 90/s (2 workers × 20 ms): busy but not full,
  // so 10x overload saturates it and the other faults start from a healthy, moving pipeline.
  steadyRate: 20,
  handlerMs: 20,
  queue: 500,
  pool: 2,
  holdMs: 90_000,
  recoverWaitMs: 180_000,
  lagThresholdS: 5,
  // Two 30 s rate windows' worth of samples, so ratio rules see a healthy baseline first.
  warmupMs: 35_000,
  drainWaitMs: 300_000,
};

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const step of cleanups.splice(0).reverse()) await step().catch((error) => log(`cleanup: ${String(error)}`));
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything the drill started`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  const started = Date.now();
  mkdirSync(dir, { recursive: true });
  const plan = brokerNames
    .map(
      (name) =>
        `${name}: ${faultsOf(name)
          .map((f) => f.id)
          .join(', ')}`,
    )
    .join('; ');
  log(`${plan}; repeat ${repeat}; state in ${dir}`);

  // The shared emulators the Kinesis and Pub/Sub runs go through; Kafka is a private node.
  const shared: BrokerName[] = [
    ...(brokerNames.includes('kinesis') ? (['kinesis', 'dynamodb'] as const) : []),
    ...(brokerNames.includes('pubsub') ? (['pubsub'] as const) : []),
  ];
  const outcomes = shared.length > 0 ? await brokersUp(shared, log) : [];
  const failed = outcomes.filter((o) => o.state === 'failed');
  if (failed.length > 0) throw new Error(`brokers failed to start: ${failed.map((o) => o.name).join(', ')}`);
  const startedHere = outcomes.filter((o) => o.state === 'started').map((o) => o.name);
  cleanups.push(async () => void (startedHere.length > 0 && (await brokersDown(startedHere, log))));

  const webhook = new AlertWebhook();
  const monitoring = new Monitoring(dir, { prometheus: await freePort(), alertmanager: await freePort(), webhook: await freePort() });
  await webhook.start(monitoring.ports.webhook);
  cleanups.push(() => webhook.stop());
  cleanups.push(() => monitoring.stop());
  await monitoring.start();
  log(
    `prometheus ${monitoring.prometheusUrl}, alertmanager :${monitoring.ports.alertmanager} (group_wait ${GROUP_WAIT}), webhook :${monitoring.ports.webhook}`,
  );

  const toxiproxy = new Toxiproxy(await freePort(), log);
  cleanups.push(() => toxiproxy.stop());
  await toxiproxy.start();

  const brokers: DrillBroker[] = [];
  for (const name of brokerNames) {
    const broker =
      name === 'kafka'
        ? await kafkaBroker(toxiproxy, freePort, dir, log, kafkaClient)
        : name === 'kinesis'
          ? await kinesisBroker(toxiproxy, freePort)
          : await pubsubBroker(toxiproxy, freePort);
    cleanups.push(() => broker.close());
    brokers.push(broker);
  }

  const env = { monitoring, webhook, freePort, children, log };
  const done: DrillRow[] = [];
  const lane = async (broker: DrillBroker) => {
    const rows: DrillRow[] = [];
    for (const fault of faultsOf(broker.name)) {
      for (let r = 1; r <= repeat; r++) {
        // A run that throws is a row with its error: the other runs of the lane still happen.
        const row = await runDrill(env, settings, broker, fault, r).catch(
          (error): DrillRow => ({ ...emptyRow(broker.label ?? broker.name, fault, r), error: (error as Error).message }),
        );
        rows.push(row);
        done.push(row);
        // A long drill stopped half-way still leaves what it measured.
        if (args.out) writeFileSync(args.out, `${JSON.stringify({ partial: true, rows: done }, null, 2)}\n`);
      }
    }
    return rows;
  };
  // --parallel: one lane per broker at once (faster, noisier timings on a small machine).
  const rows = args.parallel ? (await Promise.all(brokers.map(lane))).flat() : await sequential(brokers, lane);
  const summaries = summarise(rows);
  const durationS = (Date.now() - started) / 1000;
  const meta = {
    startedAt: new Date(started).toISOString(),
    durationS,
    repeat,
    settings: { ...settings, dir: undefined },
    groupWait: GROUP_WAIT,
  };

  console.log(`\n${renderTable(summaries)}\n`);
  console.log(`drill took ${Math.round(durationS)} s (group_wait ${GROUP_WAIT}; detect and recover are medians of ${repeat})`);
  if (args.out) writeFileSync(args.out, `${JSON.stringify({ ...meta, summaries, rows }, null, 2)}\n`);
  if (args.report) writeFileSync(args.report, renderHtmlPage(summaries, meta));

  const broken = summaries.filter((s) => !s.notApplicable && (s.lost > 0 || s.errors.length > 0 || (args.quick && s.detectS === null)));
  const missed = summaries.filter((s) => !s.ok);
  if (missed.length > 0)
    console.log(`goals missed (detect < 60 s, recover < 120 s, 0 lost): ${missed.map((s) => `${s.broker}/${s.fault}`).join(', ')}`);
  if (broken.length > 0) {
    console.error(
      `DRILL FAILED: ${broken.map((s) => `${s.broker}/${s.fault}: lost ${s.lost}, detect ${s.detectS ?? 'never'}${s.errors.length ? `, ${s.errors.join('; ')}` : ''}`).join('; ')}`,
    );
    return 1;
  }
  return 0;
}

async function sequential(brokers: DrillBroker[], lane: (broker: DrillBroker) => Promise<DrillRow[]>): Promise<DrillRow[]> {
  const rows: DrillRow[] = [];
  for (const broker of brokers) rows.push(...(await lane(broker)));
  return rows;
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (error) => {
    console.error(`drill: ${(error as Error).stack ?? String(error)}`);
    await cleanup();
    process.exit(1);
  });
