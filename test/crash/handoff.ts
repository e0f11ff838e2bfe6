// The rolling-deploy scenario of issue #12 (item 5): two `sluice run` members share a topic /
// stream / subscription under a steady load; one gets SIGTERM (as Kubernetes sends it to the old
// pod of a rolling deploy). It must hand its share over at once: the Kafka member commits and
// leaves the group, the Kinesis member checkpoints and releases its leases, the Pub/Sub member
// nacks what it still holds. Nothing may be lost, few events processed twice, and the survivor
// must start on the departed member's share without waiting for a session or lease to expire.
//
// takeoverMs: SIGTERM → the survivor processes the first event of the departed member's share:
// for Kafka and Kinesis an event of a partition / shard whose last event before the signal the
// departed member processed; for Pub/Sub (no partitions) an event the departed member had
// received and nacked on close (delivery attempt > 1).
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type BrokerRig, kafkaRig, kinesisRig, pubsubRig } from './broker-rig.ts';
import { auditOf, count, drain, collectRows, killLeft, Load, Member, sleep, until, writeMembersConfig } from './members.ts';
import type { ScenarioContext } from './registry.ts';
import type { ScenarioRow } from './scenario.ts';
import type { Processed } from './sluice-child.ts';

export type ScenarioSize = 'quick' | 'full';

/**
 * Events per second; how long the load runs before and after the SIGTERM; the backlog published
 * at once just before the SIGTERM (so that the departed member holds events it has not
 * processed: fetched, queued or leased).
 */
export const HANDOFF_SIZES: Record<ScenarioSize, { rate: number; beforeMs: number; afterMs: number; backlog: number }> = {
  quick: { rate: 400, beforeMs: 3_000, afterMs: 8_000, backlog: 3_000 },
  full: { rate: 1_000, beforeMs: 10_000, afterMs: 20_000, backlog: 10_000 },
};

export interface HandoffCase {
  rig: BrokerRig;
  /** Merged into the broker's section (`broker.kafka`, `broker.kinesis`, …). */
  settings: Record<string, unknown>;
  /** Environment of member `a` and `b`. */
  env?: (member: 'a' | 'b') => Record<string, string>;
  /** Pass bound on takeoverMs, where the product promises one. */
  takeoverMsMax?: number;
  /** The handler's time per event, ms (default 10). */
  delayMs?: number;
  notes?: string;
}

/**
 * The cases `sluice run` users meet on a rolling deploy, each with the defaults that matter left
 * alone: Kafka's 30 s session (a takeover that waited for it would take over 30 s), Kinesis' 10 s
 * lease duration, Pub/Sub's 10 s ack deadline.
 */
export function handoffCases(): HandoffCase[] {
  return [
    { rig: kafkaRig('kafkajs'), settings: {}, takeoverMsMax: 15_000, notes: 'sessionTimeoutMs 30000 (default)' },
    {
      rig: kafkaRig('platformatic'),
      settings: { staticMembership: true },
      env: (member) => ({ SLUICE_INSTANCE_ID: `crash-${member}` }),
      takeoverMsMax: 15_000,
      notes: 'static members (staticMembership), leaveGroupOnClose: true (default); sessionTimeoutMs 30000',
    },
    {
      // For comparison: a static member that stays in the group on close (a StatefulSet restart
      // under the same name): its partitions wait for its session (10 s here) instead.
      rig: kafkaRig('platformatic', 'kafka (platformatic, stays)'),
      settings: { staticMembership: true, leaveGroupOnClose: false, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 3_000 },
      env: (member) => ({ SLUICE_INSTANCE_ID: `crash-${member}` }),
      notes: 'static members with leaveGroupOnClose: false, sessionTimeoutMs 10000: the share waits for the session',
    },
    {
      rig: kinesisRig(),
      // Scans every 2 s (default: every durationMs), so that the two members balance quickly.
      settings: { leases: { takeIntervalMs: 2_000 } },
      takeoverMsMax: 10_000,
      notes: 'leases.durationMs 10000 (default), takeIntervalMs 2000',
    },
    // A slower handler: the emulator takes a burst slower than two members process it at 10 ms.
    { rig: pubsubRig(), settings: {}, delayMs: 40, takeoverMsMax: 10_000, notes: 'ackDeadlineSeconds 10, handler 40 ms' },
  ];
}

export const HANDOFF_SCENARIO = 'sigterm handoff';

/** The harness's entry (registry.ts): one row per case the context wants; a case that cannot run is an error row. */
export async function handoffScenario(context: ScenarioContext, cases: HandoffCase[] = handoffCases()): Promise<ScenarioRow[]> {
  return collectRows(
    context,
    HANDOFF_SCENARIO,
    cases,
    (item) => item.rig.label,
    (item) => handoffRow(context, item),
  );
}

/** The partitions (shards) `records` came from since `from`. */
function partitionsSince(records: Processed[], from: number): Set<string> {
  return new Set(records.filter((record) => record.at >= from).map((record) => record.partition ?? ''));
}

/** The partitions whose last event before `until` member a processed (not b): a's share. */
function lastProcessedBy(a: Processed[], b: Processed[], until: number): Set<string> {
  const last = new Map<string, { at: number; byA: boolean }>();
  for (const [records, byA] of [
    [a, true],
    [b, false],
  ] as const) {
    for (const { at, partition = '' } of records) {
      if (at > until) continue;
      const seen = last.get(partition);
      if (!seen || at > seen.at) last.set(partition, { at, byA });
    }
  }
  return new Set([...last].filter(([, seen]) => seen.byA).map(([partition]) => partition));
}

/** Records after `from` of events recorded before (by either member). */
function handoffDuplicates(records: Processed[], from: number): number {
  const ordered = [...records].sort((x, y) => x.at - y.at);
  const seen = new Set<number>();
  let duplicates = 0;
  for (const record of ordered) {
    if (seen.has(record.n) && record.at >= from) duplicates++;
    seen.add(record.n);
  }
  return duplicates;
}

/** One case: two members, load, SIGTERM of `a`, drain; the row. */
export async function handoffRow(context: ScenarioContext, handoffCase: HandoffCase): Promise<ScenarioRow> {
  const { rate, beforeMs, afterMs, backlog } = HANDOFF_SIZES[context.quick ? 'quick' : 'full'];
  const { rig } = handoffCase;
  const log = (line: string) => context.log(`[${HANDOFF_SCENARIO} / ${rig.label}] ${line}`);
  const dir = await mkdtemp(join(context.dir, 'handoff-'));
  const children = new Set<ChildProcess>();
  const run = await rig.prepare(handoffCase.settings);
  const load = new Load(run, Math.ceil(rate / 8)); // a trickle until both members work
  try {
    // The departing member gets 1 s to finish what it holds (its pod's grace period, shortened):
    // with a 10 ms handler it leaves queued events unprocessed, nacked at close, which the
    // survivor must then process (a share to take over on every broker, Pub/Sub included).
    const configPath = await writeMembersConfig(dir, 'handoff', run, { shutdown: { timeoutMs: 1_000 } });
    const env = (member: 'a' | 'b') => ({ SLUICE_TEST_DELAY_MS: String(handoffCase.delayMs ?? 10), ...handoffCase.env?.(member) });
    const a = new Member(dir, 'a', configPath, children, env('a'), context.entry);
    // b starts once a works, as in a deploy. (Two Kinesis members starting at the same instant
    // on a fresh lease table sometimes exit with code 13, an unsettled await: a known issue.)
    await a.firstRecord(120_000);
    const b = new Member(dir, 'b', configPath, children, env('b'), context.entry);
    await b.firstRecord(120_000);
    // Settled: both process, on disjoint partitions that cover all of them (Kafka, Kinesis).
    await until('the two members to share the work', 90_000, async () => {
      const since = Date.now() - 2_000;
      const [ra, rb] = [partitionsSince(await a.records(), since), partitionsSince(await b.records(), since)];
      if (ra.size === 0 || rb.size === 0) return false;
      if (run.partitions === 0) return true;
      return ra.size + rb.size === run.partitions && [...ra].every((partition) => !rb.has(partition));
    });
    log(`both members share the work; load ${rate}/s, then ${backlog} at once and SIGTERM`);
    load.rate = rate;
    await sleep(beforeMs);
    await load.burst(backlog);

    const sigtermAt = a.signal('SIGTERM');
    const share = lastProcessedBy(await a.records(), await b.records(), sigtermAt);
    const exit = await a.exited;
    if (exit.code !== 0) throw new Error(`${rig.label}: member a exited ${exit.code ?? exit.signal} after SIGTERM, not 0`);
    log(`a exited ${exit.at - sigtermAt} ms after SIGTERM`);
    await sleep(Math.max(0, afterMs - (Date.now() - sigtermAt)));
    const events = await load.stop();

    const records = await drain([a, b], events, 120_000);
    const { lost, duplicates: all, lastAt } = count(events, records);
    // The handoff's duplicates: processings after the SIGTERM of an event processed before. The
    // rest came from the members' start (a Kinesis lease stolen to balance, a Kafka join).
    const duplicates = handoffDuplicates(records, sigtermAt);
    b.signal('SIGTERM');
    const bExit = await b.exited;

    const bRecords = await b.records();
    const taken = bRecords.find(
      (record) => record.at >= sigtermAt && (run.partitions === 0 ? (record.attempt ?? 1) > 1 : share.has(record.partition ?? '')),
    );
    const takeoverMs = taken ? taken.at - sigtermAt : undefined;
    const noShare = run.partitions === 0 && !taken;
    const notes = [
      handoffCase.notes,
      `a exited ${exit.at - sigtermAt} ms after SIGTERM`,
      run.partitions > 0 ? `a's share: ${share.size} of ${run.partitions} partitions` : undefined,
      noShare ? 'a held nothing unprocessed at close (nothing to take over)' : undefined,
      all > duplicates ? `${all - duplicates} more duplicates while the members started (balancing)` : undefined,
      bExit.code === 0 ? undefined : `b exited ${bExit.code ?? bExit.signal}`,
    ].filter(Boolean);
    return {
      scenario: HANDOFF_SCENARIO,
      broker: rig.label,
      events,
      lost,
      duplicates,
      takeoverMs,
      drainMs: Math.max(0, lastAt - load.stoppedAt),
      audit: await auditOf([a, b], log),
      bounds: { duplicatesMax: 100, ...(handoffCase.takeoverMsMax && !noShare ? { takeoverMsMax: handoffCase.takeoverMsMax } : {}) },
      notes: notes.join('; '),
    };
  } finally {
    await load.stop().catch(() => undefined);
    killLeft(children);
    await run.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}
