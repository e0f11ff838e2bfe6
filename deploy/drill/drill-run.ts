// One drill run: one broker, one fault. Fresh destination, Sluice under steady load, a warm-up
// until Prometheus sees a healthy pipeline, then inject → detected (the intended alert arrives at
// the webhook) or held 90 s → remove → recovered (lag < 5 s, up and ready in Prometheus, and the
// intended alert resolved at the webhook) → drain → count lost and duplicated events.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { BrokerRun, DrillBroker, FreePort } from './drill-brokers.ts';
import type { DrillFault, FaultContext } from './drill-faults.ts';
import { SluiceChild, SteadyProducer } from './load.ts';
import type { Monitoring } from './monitoring.ts';
import type { AlertWebhook } from './webhook.ts';

export interface DrillRow {
  broker: string;
  fault: string;
  title: string;
  intended: string;
  repeat: number;
  /** Fault start → intended alert firing at the webhook, s; null: not within the hold. */
  detectS: number | null;
  /**
   * Fault end → lag < 5 s (and up, ready), an event published after the fault's end processed,
   * and the intended alert resolved, s; null: not within the wait.
   */
  recoverS: number | null;
  /** Fault end → lag back under the threshold, s. */
  lagBackS: number | null;
  /**
   * Fault end → the first event published after it recorded by the handler, s: events flow again.
   * (Lag alone can miss this: a Pub/Sub subscriber's lag covers what it holds, not the
   * subscription's backlog, so a subscriber whose stream has not reconnected yet shows lag 0.)
   */
  flowingS: number | null;
  heldS: number;
  published: number;
  lost: number;
  duplicates: number;
  /** Other alerts that fired for this run from the fault's start to its recovery, `name@<s after start>`. */
  others: string[];
  /** Producer stop → every confirmed event recorded, s; null: not within drainWaitMs (then lost > 0). */
  drainS: number | null;
  /** Something worth knowing, e.g. events the producer could not publish. */
  note?: string;
  /** Why the row does not apply, or what went wrong. */
  notApplicable?: string;
  error?: string;
}

export interface DrillSettings {
  dir: string;
  steadyRate: number;
  handlerMs: number;
  queue: number;
  pool: number;
  /** The longest a fault is held when its alert does not come. */
  holdMs: number;
  /** How long after the fault's end recovery is waited for. */
  recoverWaitMs: number;
  /** Lag under this many seconds counts as recovered. */
  lagThresholdS: number;
  warmupMs: number;
  /** How long after the producer stops every confirmed event must be recorded. */
  drainWaitMs: number;
}

export interface DrillEnv {
  monitoring: Monitoring;
  webhook: AlertWebhook;
  freePort: FreePort;
  children: Set<ChildProcess>;
  log: (msg: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => Math.round(ms / 100) / 10;

async function until(timeoutMs: number, check: () => Promise<boolean> | boolean, everyMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      // Prometheus briefly unreachable: ask again
    }
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** A row with nothing measured yet. */
export function emptyRow(broker: string, fault: DrillFault, repeat: number): DrillRow {
  return {
    broker,
    fault: fault.id,
    title: fault.title,
    intended: fault.intended,
    repeat,
    detectS: null,
    recoverS: null,
    lagBackS: null,
    flowingS: null,
    heldS: 0,
    drainS: null,
    published: 0,
    lost: 0,
    duplicates: 0,
    others: [],
  };
}

export async function runDrill(
  env: DrillEnv,
  settings: DrillSettings,
  broker: DrillBroker,
  fault: DrillFault,
  repeat: number,
): Promise<DrillRow> {
  const row = emptyRow(broker.label ?? broker.name, fault, repeat);
  const notApplicable = fault.notApplicable?.(broker);
  if (notApplicable) return { ...row, notApplicable };

  const { monitoring, webhook, log } = env;
  const id = `drill-${broker.name}-${fault.id}-${repeat}-${randomBytes(3).toString('hex')}`;
  const say = (msg: string) => log(`[${broker.name} ${fault.id} #${repeat}] ${msg}`);
  // A broker that was just restarted may refuse to create a topic for a few seconds (partition
  // leaders not elected yet): a few tries before the run counts as failed, and the lane goes on.
  let run: BrokerRun | undefined;
  for (let attempt = 1; !run; attempt++) {
    try {
      run = await broker.prepare(id);
    } catch (error) {
      if (attempt >= 5) return { ...row, error: `could not create the destination: ${(error as Error).message}` };
      say(`create the destination: ${(error as Error).message.slice(0, 160)}; retrying`);
      await sleep(5_000);
    }
  }
  const sluice = new SluiceChild({
    dir: settings.dir,
    name: id,
    run,
    metricsPort: await env.freePort(),
    handlerMs: settings.handlerMs,
    queue: settings.queue,
    pool: settings.pool,
    children: env.children,
  });
  const producer = new SteadyProducer(run, settings.steadyRate, say);
  const context: FaultContext = { broker, sluice, producer, steadyRate: settings.steadyRate };
  const selector = `drill_run="${id}"`;
  const healthy = async () =>
    (await monitoring.query(`max(up{${selector}})`)) === 1 &&
    (await monitoring.query(`min(sluice_ready{${selector}})`)) === 1 &&
    ((await monitoring.query(`max(sluice_source_lag_seconds{${selector}})`)) ?? 0) < settings.lagThresholdS;
  let injected = false;
  let removed = false;
  try {
    await sluice.start();
    producer.start();
    monitoring.setTarget(id, {
      address: sluice.metricsUrl.replace('http://', ''),
      labels: { drill_run: id, drill_broker: broker.name, drill_fault: fault.id },
    });
    const warmStart = Date.now();
    const warm = await until(
      settings.warmupMs + 60_000,
      async () => Date.now() - warmStart >= settings.warmupMs && (await healthy()),
      1_000,
    );
    if (!warm) throw new Error(`not healthy after ${seconds(Date.now() - warmStart)} s of warm-up`);
    const early = webhook.of(id).filter((arrival) => arrival.status === 'firing');
    if (early.length > 0) say(`alerts before the fault: ${[...new Set(early.map((a) => a.alertname))].join(', ')}`);

    say(`inject: ${fault.title}`);
    const start = Date.now();
    injected = true;
    await fault.inject(context);
    await until(settings.holdMs, () => webhook.first(id, fault.intended, 'firing', start) !== undefined);
    const detected = webhook.first(id, fault.intended, 'firing', start);
    row.detectS = detected ? seconds(detected.at - start) : null;
    say(
      detected
        ? `detected by ${fault.intended} in ${row.detectS} s`
        : `${fault.intended} did not fire within ${seconds(settings.holdMs)} s`,
    );

    await fault.remove(context);
    removed = true;
    const end = Date.now();
    row.heldS = seconds(end - start);
    const confirmedAtEnd = producer.confirmed.length;
    let lagBack: number | undefined;
    let flowing: number | undefined;
    const recovered = await until(
      settings.recoverWaitMs,
      async () => {
        if (lagBack === undefined && (await healthy())) lagBack = Date.now();
        if (flowing === undefined && producer.confirmed.length > confirmedAtEnd) {
          const { seen } = await sluice.recorded();
          if (producer.confirmed.slice(confirmedAtEnd).some((n) => seen.has(n))) flowing = Date.now();
        }
        return lagBack !== undefined && flowing !== undefined && !webhook.firing(id, fault.intended);
      },
      1_000,
    );
    row.lagBackS = lagBack === undefined ? null : seconds(lagBack - end);
    row.flowingS = flowing === undefined ? null : seconds(flowing - end);
    if (recovered && lagBack !== undefined && flowing !== undefined) {
      const resolved = webhook
        .of(id, start)
        .filter((a) => a.alertname === fault.intended && a.status === 'resolved')
        .at(-1);
      row.recoverS = seconds(Math.max(lagBack, flowing, resolved?.at ?? 0) - end);
    }
    say(`recovered: ${row.recoverS ?? 'no'} s (lag back ${row.lagBackS ?? 'never'} s, events flowing ${row.flowingS ?? 'never'} s)`);
    // Each other alert with the time it first fired after the fault's start, e.g. `SluiceLagHigh@47s`.
    const firstFired = new Map<string, number>();
    for (const arrival of webhook.of(id, start)) {
      if (arrival.status === 'firing' && arrival.alertname !== fault.intended && !firstFired.has(arrival.alertname))
        firstFired.set(arrival.alertname, arrival.at);
    }
    row.others = [...firstFired].map(([name, at]) => `${name}@${Math.round((at - start) / 1000)}s`);

    await producer.stop();
    row.published = producer.confirmed.length;
    // Redelivery of what a dead connection held can wait for a lease or ack deadline to expire:
    // give it minutes before an event counts as lost, and report how long the last ones took.
    const drainStart = Date.now();
    const drained = await until(
      settings.drainWaitMs,
      async () => (await sluice.recorded()).seen.size >= new Set(producer.confirmed).size,
      1_000,
    );
    row.drainS = drained ? seconds(Date.now() - drainStart) : null;
    const { all, seen } = await sluice.recorded();
    row.lost = producer.confirmed.filter((n) => !seen.has(n)).length;
    row.duplicates = all.length - seen.size;
    if (producer.unconfirmed > 0) row.note = `${producer.unconfirmed} events never confirmed by the broker to the producer`;
    say(
      `published ${row.published}, lost ${row.lost}, duplicates ${row.duplicates}, all recorded ${row.drainS ?? 'never'} s after the producer stopped`,
    );
  } catch (error) {
    row.error = (error as Error).message;
    say(`failed: ${row.error}`);
  } finally {
    if (injected && !removed) await fault.remove(context).catch((error) => say(`could not remove the fault: ${String(error)}`));
    await producer.stop(5_000);
    await sluice.stop();
    monitoring.setTarget(id, undefined);
    await run.cleanup().catch((error) => say(`cleanup: ${String(error)}`));
  }
  return row;
}
