/**
 * `npm run bench:kafka`: what Sluice costs on top of each Kafka client library, against a real Kafka.
 *
 *  1. A backlog of `--events` 1 KB events is produced once, with Sluice's batched publisher, into
 *     a fresh topic of 4 partitions.
 *  2. The backlog is consumed `--rounds` times by each contender, in turn (the order turning each
 *     round), each time by a fresh consumer group, each contender in a process of its own that
 *     lives for all rounds (see isolated), per library of `--clients` (kafkajs, platformatic):
 *     the bare client that only counts (kafka-bare.ts); Sluice on that client, started exactly as
 *     `sluice run` starts it (bench-support.ts → src/cli/run.ts: schema defaults, handler
 *     wrappers, metrics server scraped once a second, summary line, info logs) with a handler that
 *     only counts in place of the noop; and `sluice run` itself in a child process (noop handler),
 *     measured from outside through /metrics and /proc. Rates are taken from the first event to
 *     the last (outside: over the steady part of the drain), so joining the group is not counted;
 *     the best round of each gives the ratio Sluice / bare of the same library, and so does the
 *     median of each round's Sluice / bare (steadier: the two met the same neighbours). The process CPU
 *     time per event is reported too: on a shared machine it is steadier than wall-clock rates.
 *  3. End-to-end latency at a fixed `--rate`: a producer in a child process publishes at that
 *     rate (open loop: each event carries its intended send time) into a second fresh topic while
 *     Sluice consumes it; p50/p99/max from intended send to the end of the handler (HDR
 *     histogram, first two seconds excluded), split at the record timestamp into the producer's
 *     and the consumer's share.
 *
 * Human-readable lines go to stderr; the last line on stdout is one JSON object with the figures.
 *   npm run bench:kafka -- --events 500000 --rounds 3 --clients kafkajs,platformatic --rate 10000 --seconds 20 --brokers 127.0.0.1:9092
 * --keep leaves the backlog topic; --topic <name> reads it again (same --events) without producing;
 * --contenders bare,sluice,run picks who runs; --seconds 0 skips the latency phase.
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { OutgoingEvent, SourceEvent } from '../broker/contract.ts';
import type { ToolingAdapter } from '../broker/tooling.ts';
import { benchAdapter } from './bench-adapters.ts';
import {
  EventCounter,
  fmt,
  type OutsideRate,
  type Rate,
  runConfigFor,
  runId,
  say,
  settings,
  sluiceRunFromOutside,
  startSluiceAsRun,
  waitUntil,
} from './bench-support.ts';
import { type Contender, KAFKA_CLIENTS, type KafkaSection, kafkaContenders, parseClients, summarizeContenders } from './kafka-bare.ts';
import { latencyAtRate, produceAtRate } from './kafka-latency.ts';
import { type ChildContender, childPerRun, contenderInChild, serveContender } from './kafka-contender-process.ts';
import { flagOrExit, parseDuration, parseSize } from '../cli/units.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    payload: { type: 'string', default: '1024' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: KAFKA_CLIENTS.join(',') },
    brokers: { type: 'string', default: process.env.SLUICE_KAFKA_BROKERS ?? '127.0.0.1:9092' },
    keep: { type: 'boolean', default: false },
    // Read an existing backlog of --events events (left by an earlier run with --keep) instead of producing one.
    topic: { type: 'string' },
    // Who drains the backlog each round: the bare client, Sluice in this process, `sluice run`
    // in a child process measured from outside (e.g. --contenders run, to profile it alone).
    contenders: { type: 'string', default: 'bare,sluice,run' },
    // A config key for both Sluice contenders, e.g. --set queue.maxEvents=1000 (repeatable): experiments only.
    set: { type: 'string', multiple: true, default: [] },
    // Internal: the fixed-rate producer runs in a child process of its own (kafka-latency.ts).
    'produce-to': { type: 'string' },
    origin: { type: 'string' },
    // Internal: one contender in a process of its own (see isolated), driven round by round, and the parent's run id.
    contender: { type: 'string' },
    run: { type: 'string' },
    // All contenders in this one process, as before they had one each (to see what sharing costs).
    'in-process': { type: 'boolean', default: false },
    // Each drain in a process of its own, started just before it and stopped after it (childPerRun).
    fresh: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(`usage: npm run bench:kafka -- [--events 500000] [--payload 1024] [--rounds 3] [--clients kafkajs,platformatic]
  [--contenders bare,sluice,run] [--rate 10000] [--seconds 20 (0: no latency phase)] [--brokers 127.0.0.1:9092]
  [--keep (leave the backlog topic)] [--topic <backlog left by --keep; same --events>] [--set key=value (Sluice only, repeatable)]
  [--in-process (all contenders in this process, as before each had one of its own)]
  [--fresh (each drain in a process started for it: every contender with the same history before each drain)]
`);
  process.exit(0);
}
const EVENTS = Number(args.events);
const PAYLOAD = flagOrExit(() => parseSize(args.payload, '--payload'));
const RATE = Number(args.rate);
const SECONDS = flagOrExit(() => parseDuration(args.seconds, '--seconds', 's'));
const ROUNDS = Math.max(1, Number(args.rounds));
const CLIENTS = parseClients(args.clients!);
const PARTITIONS = 4;
const run = args.run ?? runId();
const CONTENDERS = new Set(args.contenders!.split(',').map((name) => name.trim()));

/** The `broker.kafka` section, as a user would write it; `client` is set per contender. */
type KafkaBench = KafkaSection & { readonly clientId: string; readonly client?: string };
function config(topic: string, group: string): KafkaBench {
  return { brokers: args.brokers!.split(','), clientId: 'sluice-bench', topics: [topic], group };
}

/** Produces the backlog with Sluice's publisher: batches of 5,000, 1,000 keys. */
async function produceBacklog(adapter: ToolingAdapter, topic: string): Promise<number> {
  const publisher = adapter.createPublisher();
  await publisher.connect();
  const payload = Buffer.alloc(PAYLOAD, 'sluice-kafka-bench;');
  const started = performance.now();
  for (let sent = 0; sent < EVENTS; ) {
    const count = Math.min(5_000, EVENTS - sent);
    const batch = new Array<OutgoingEvent>(count);
    for (let i = 0; i < count; i++) batch[i] = { key: `key-${(sent + i) % 1000}`, payload };
    await publisher.publish(topic, batch);
    sent += count;
  }
  const seconds = (performance.now() - started) / 1000;
  await publisher.close();
  return EVENTS / seconds;
}

/** Sluice as `sluice run` runs it (bench-support.ts), reading `topic` as `group` with `cfg`'s client. */
function sluiceRunConfig(cfg: KafkaBench, topic: string, group: string): unknown {
  return runConfigFor(
    'kafka',
    { brokers: cfg.brokers, clientId: cfg.clientId, client: cfg.client, topics: [topic], group },
    settings(args.set!),
  );
}

/** Sluice in this process, built as `sluice run` builds it, with a handler that only counts. */
async function throughSluice(cfg: KafkaBench, topic: string, round: string): Promise<Rate & { commits: number }> {
  const counter = new EventCounter(EVENTS);
  const sluice = await startSluiceAsRun(sluiceRunConfig(cfg, topic, `bench-sluice-${run}-${round}`), () => counter.add(1));
  await waitUntil('Sluice to process the backlog', () => counter.done, 600_000);
  await sluice.stop();
  const commits = sluice.sluice.pipeline.source.commits.committed.get(topic) ?? 0;
  return { ...counter.rate(), commits };
}

/** `sluice run` itself in a child process (noop handler, defaults), measured from outside. */
function sluiceRunOutside(cfg: KafkaBench, topic: string, round: string): Promise<OutsideRate> {
  return sluiceRunFromOutside(sluiceRunConfig(cfg, topic, `bench-run-${run}-${round}`), EVENTS);
}

/** The latency phase's settings (kafka-latency.ts): the fixed-rate stream and where it goes. */
function latencyRun(cfg: KafkaBench) {
  return {
    brokers: args.brokers!,
    rate: RATE,
    seconds: SECONDS,
    payloadBytes: PAYLOAD,
    partitions: PARTITIONS,
    run,
    benchModule: fileURLToPath(import.meta.url),
    startSluice: (topic: string, handle: (event: SourceEvent) => void) =>
      startSluiceAsRun(sluiceRunConfig(cfg, topic, `bench-latency-${run}`), handle),
    publisherFor: async (topic: string) => (await benchAdapter('kafka', config(topic, 'unused'))).adapter.createPublisher(),
  };
}

/** Every contender of `--clients` (bare and Sluice per library), reading `topic`. */
function allContenders(cfg: KafkaBench, topic: string): Contender[] {
  return kafkaContenders(CLIENTS, { cfg, topic, events: EVENTS, run }, (client, round) =>
    throughSluice({ ...cfg, client }, topic, `${client}-${round}`),
  );
}

/** A contender in a child process of its own (kafka-contender-process.ts), reading `topic`. */
function isolated(contender: Contender, topic: string): Promise<ChildContender> {
  return contenderInChild(contender, fileURLToPath(import.meta.url), [
    ...['--contender', contender.name, '--run', run, '--topic', topic, '--events', String(EVENTS)],
    ...['--brokers', args.brokers!, '--clients', args.clients!, ...args.set!.flatMap((assignment) => ['--set', assignment])],
  ]);
}

/** The child side of {@link isolated}. */
async function contenderChild(name: string, topic: string): Promise<number> {
  const contender = allContenders(config(topic, `bench-${run}`), topic).find((c) => c.name === name);
  if (!contender) throw new Error(`bench: no contender ${name}`);
  await serveContender(contender);
  return 0;
}

async function main(): Promise<number> {
  if (args['produce-to']) return produceAtRate(latencyRun(config(args['produce-to'], 'unused')), args['produce-to'], Number(args.origin));
  if (args.contender) return contenderChild(args.contender, args.topic!);
  const topic = args.topic ?? `bench-backlog-${run}`;
  const cfg = config(topic, `bench-${run}`);
  const { adapter: adminAdapter } = await benchAdapter('kafka', cfg);
  const admin = adminAdapter.createAdmin();
  let children: ChildContender[] = [];
  if (!args.topic) await admin.createDestination(topic, { partitions: PARTITIONS });
  try {
    say(
      `load average ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')} on ${availableParallelism()} CPUs (the broker runs on this machine too)`,
    );
    say(`kafka bench: ${fmt(EVENTS)} events of ${PAYLOAD} B into ${topic} (${PARTITIONS} partitions) at ${cfg.brokers.join(',')}`);
    const produceRate = args.topic ? 0 : await produceBacklog(adminAdapter, topic);
    if (produceRate) say(`produce (Sluice publisher, batches of 5,000, acks all, idempotent): ${fmt(produceRate)} events/s`);
    else say(`reading the existing backlog of ${topic} (--topic)`);
    // Alternating rounds, best of each: the first read of a process also pays for JIT warm-up
    // of the client's decoder, and the machine may be shared. Every round reads the same backlog
    // with a fresh group, so each starts from the beginning.
    const load = () =>
      loadavg()
        .map((n) => n.toFixed(2))
        .join(' ');
    const wanted = allContenders(cfg, topic).filter((c) => CONTENDERS.has(c.sluice ? 'sluice' : 'bare'));
    if (!args['in-process'] && !args.fresh) children = await Promise.all(wanted.map((c) => isolated(c, topic)));
    const contenders: Contender[] = args['in-process']
      ? wanted
      : args.fresh
        ? wanted.map((c) => childPerRun(c, () => isolated(c, topic)))
        : children;
    say(
      args['in-process']
        ? 'contenders: all in this process (--in-process)'
        : args.fresh
          ? 'contenders: each drain in a process started for it (--fresh)'
          : 'contenders: each in a process of its own, for all rounds',
    );
    const results = new Map(contenders.map((c) => [c.name, [] as Rate[]]));
    const outsideRuns = new Map(CLIENTS.map((client) => [client, [] as OutsideRate[]]));
    for (let round = 1; round <= ROUNDS; round++) {
      // The order turns each round, so that no contender always runs first (on the coldest
      // broker cache) or right after the same other one. --in-process: the last drain's garbage
      // is collected first (with --expose-gc, as `npm run bench:kafka` runs), not by the next.
      for (const contender of contenders.map((_, i) => contenders[(i + round - 1) % contenders.length]!)) {
        if (args['in-process']) globalThis.gc?.();
        const result = await contender.run(round);
        results.get(contender.name)!.push(result);
        say(
          `round ${round}: ${contender.name.padEnd(36)} ${fmt(result.eventsPerSecond).padStart(9)} events/s, ${result.cpuUsPerEvent.toFixed(2)} µs CPU/event${result.commits === undefined ? '' : `, ${result.commits} offset commits`} (load ${load()})`,
        );
      }
      if (!CONTENDERS.has('run')) continue;
      for (const client of CLIENTS) {
        const outside = await sluiceRunOutside({ ...cfg, client }, topic, `${client}-${round}`);
        outsideRuns.get(client)!.push(outside);
        say(
          `round ${round}: ${`\`sluice run\` child on ${client}, outside`.padEnd(36)} ${fmt(outside.eventsPerSecond).padStart(9)} events/s, ${outside.cpuUsPerEvent.toFixed(2)} µs CPU/event (spawn → first event ${outside.startupSeconds.toFixed(2)} s; spawn → last event ${fmt(outside.wallEventsPerSecond)}/s) (load ${load()})`,
        );
      }
    }
    const compared = CONTENDERS.has('bare') && CONTENDERS.has('sluice');
    const summary = compared ? summarizeContenders(contenders, results) : undefined;
    if (summary)
      say(
        `best of ${ROUNDS} rounds (rate: best round; CPU: least per event) and the median of each round's Sluice / bare, goal Sluice / bare ≥ 0.9:\n${summary.table}`,
      );
    const kafkajs = summary?.byClient.kafkajs;
    const outside = Object.fromEntries(
      [...outsideRuns]
        .filter(([, runs]) => runs.length > 0)
        .map(([client, runs]) => {
          const best = {
            eventsPerSecond: Math.max(...runs.map((r) => r.eventsPerSecond)),
            cpuUsPerEvent: Math.min(...runs.map((r) => r.cpuUsPerEvent)),
          };
          const bare = summary?.byClient[client]?.bare.eventsPerSecond;
          say(
            `\`sluice run\` on ${client} from outside (best of ${ROUNDS}): ${fmt(best.eventsPerSecond)}/s, ${best.cpuUsPerEvent.toFixed(2)} µs CPU/event${bare ? `; ratio to bare ${client} ${(best.eventsPerSecond / bare).toFixed(3)}` : ''}`,
          );
          return [
            client,
            {
              eventsPerSecond: Math.round(best.eventsPerSecond),
              cpuUsPerEvent: Number(best.cpuUsPerEvent.toFixed(3)),
              rounds: runs.map((r) => Math.round(r.eventsPerSecond)),
              ...(bare ? { ratio: Number((best.eventsPerSecond / bare).toFixed(3)) } : {}),
            },
          ];
        }),
    );
    const latency = SECONDS > 0 ? await latencyAtRate(latencyRun(cfg), admin) : undefined;
    if (latency) {
      say(
        `end-to-end at ${fmt(RATE)} events/s (achieved ${fmt(latency.achievedRate)}/s, ${fmt(latency.events)} measured): p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, p99.9 ${latency.p999Ms} ms, max ${latency.maxMs} ms`,
      );
      say(
        `  of which producer (send → record timestamp): p50 ${latency.producerP50Ms} ms, p99 ${latency.producerP99Ms} ms; consumer (record timestamp → handler done): p50 ${latency.consumerP50Ms} ms, p99 ${latency.consumerP99Ms} ms`,
      );
    }
    process.stdout.write(
      `${JSON.stringify({
        bench: 'kafka',
        events: EVENTS,
        payloadBytes: PAYLOAD,
        partitions: PARTITIONS,
        produceEventsPerSecond: Math.round(produceRate),
        rounds: ROUNDS,
        // The kafkajs figures under their earlier names, for comparison with earlier runs.
        ...(kafkajs && {
          bareKafkajsEventsPerSecond: Math.round(kafkajs.bare.eventsPerSecond),
          sluiceEventsPerSecond: Math.round(kafkajs.sluice.eventsPerSecond),
          bareCpuUsPerEvent: Number(kafkajs.bare.cpuUsPerEvent.toFixed(3)),
          sluiceCpuUsPerEvent: Number(kafkajs.sluice.cpuUsPerEvent.toFixed(3)),
          cpuRatio: kafkajs.cpuRatio,
          ratio: kafkajs.ratio,
        }),
        ...(summary && {
          contenders: summary.json,
          ratios: Object.fromEntries(
            Object.entries(summary.byClient).map(([client, r]) => [client, { rate: r.ratio, paired: r.pairedRatio, cpu: r.cpuRatio }]),
          ),
        }),
        sluiceRunFromOutside: outside,
        latency,
        loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
        cpus: availableParallelism(),
      })}\n`,
    );
    return 0;
  } finally {
    // The children exit once let go; a child that does not within 10 s is not waited for.
    await Promise.race([Promise.all(children.map((child) => child.stop())), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    if (!args.keep && !args.topic) await admin.deleteDestination(topic).catch(() => undefined);
    await admin.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`kafka bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
