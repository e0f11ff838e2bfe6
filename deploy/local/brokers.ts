// Local brokers for development and integration tests, as processes on 127.0.0.1.
//
//   npm run brokers:up                      # all: kafka pubsub pstest kinesis kinesis-mock dynamodb nats
//   npm run brokers:up -- kafka pubsub      # a subset (or SLUICE_BROKERS=kafka,pubsub)
//   npm run brokers:status
//   npm run brokers:down
//
// Exit status: `up` 1 if a broker could not start; `down` 1 if a process survived SIGKILL;
// 2 on bad usage. `status` only reports (0).
import { brokersDown, brokersStatus, brokersUp, type UpOutcome } from './broker-manager.ts';
import { parseBrokerList, type BrokerName } from './endpoints.ts';

const [command, ...rest] = process.argv.slice(2);

function selected(): BrokerName[] {
  return parseBrokerList(rest.length > 0 ? rest : process.env.SLUICE_BROKERS);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

function envLines(outcomes: UpOutcome[]): string[] {
  const lines = outcomes.flatMap((o) => (o.state === 'failed' ? [] : Object.entries(o.endpoint.env).map(([k, v]) => `export ${k}=${v}`)));
  return [...new Set(lines)]; // both Pub/Sub servers need METADATA_SERVER_DETECTION: once is enough
}

async function up(): Promise<number> {
  const names = selected();
  const t0 = Date.now();
  const outcomes = await brokersUp(names);
  for (const o of outcomes) printOutcome(o);
  const ok = outcomes.filter((o) => o.state !== 'failed').map((o) => o.name);
  console.log(`\n${ok.length}/${outcomes.length} broker(s) up in ${seconds(Date.now() - t0)}`);
  if (ok.length === 0) return 1;
  // These are tool variables (tests, adapter benchmarks, SDKs), not config: `sluice run` reads
  // only `SLUICE_<SECTION>__<KEY>` variables, so it is pointed at a broker by a profile instead.
  console.log(`\n# For the integration tests, the adapter benchmarks and the SDKs:\n${envLines(outcomes).join('\n')}`);
  const profiles = ok.filter((name) => ['kafka', 'kinesis', 'pubsub', 'nats'].includes(name));
  if (profiles.length > 0) {
    console.log('\n# sluice run does not read those; point it at a local broker with its profile:');
    for (const name of profiles) console.log(`#   sluice run --config config/local/${name}.yaml`);
  }
  return outcomes.some((o) => o.state === 'failed') ? 1 : 0;
}

function printOutcome(o: UpOutcome): void {
  const name = o.name.padEnd(13);
  if (o.state === 'failed') {
    console.log(`${name}FAILED  ${o.reason}`);
    if (o.logTail) console.log(`  log ${o.log}:\n${indent(o.logTail)}`);
    return;
  }
  const how =
    o.state === 'started'
      ? `started in ${seconds(o.ms)} (pid ${o.pid})`
      : `already running${o.pid ? ` (pid ${o.pid})` : ' (not started by sluice)'}`;
  console.log(`${name}${o.endpoint.address.padEnd(17)} ${how}; ${o.detail}`);
  if (o.endpoint.name !== 'kafka') return;
  const sasl = o.endpoint.sasl;
  if (sasl) console.log(`${''.padEnd(13)}${sasl.address.padEnd(17)} SASL_SSL, ${sasl.mechanism} user ${sasl.username}, CA ${sasl.caFile}`);
  else console.log(`${''.padEnd(13)}no SASL_SSL listener: ${o.endpoint.saslUnavailable}`);
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

async function status(): Promise<number> {
  const rows = await brokersStatus(selected());
  console.log(`${'BROKER'.padEnd(13)}${'ADDRESS'.padEnd(17)} ${'HEALTH'.padEnd(10)} ${'PID'.padEnd(8)} DETAIL`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(13)}${r.address.padEnd(17)} ${r.health.padEnd(10)} ${String(r.pid ?? '-').padEnd(8)} ${r.detail}`);
  }
  return 0;
}

async function down(): Promise<number> {
  const outcomes = await brokersDown(selected());
  for (const o of outcomes) {
    const what =
      o.result === 'not-started-by-sluice'
        ? 'nothing to stop (no live pid recorded by brokers:up)'
        : o.result === 'failed'
          ? `FAILED ${o.error}`
          : `${o.result} pid ${o.pid} in ${seconds(o.ms)}`;
    console.log(`${o.name.padEnd(13)}${what}`);
  }
  return outcomes.some((o) => o.result === 'failed') ? 1 : 0;
}

const commands: Record<string, () => Promise<number>> = { up, down, status };

const run = command ? commands[command] : undefined;
if (!run) {
  console.error('usage: tsx deploy/local/brokers.ts up|down|status [kafka|pubsub|kinesis|kinesis-mock|dynamodb ...]');
  process.exit(2);
}
run().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.message);
    process.exit(err.message.startsWith('unknown broker') ? 2 : 1);
  },
);
