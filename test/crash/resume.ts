// Fast resume after a crash (issue #12, item 3): one `sluice run` member under a steady load is
// killed with SIGKILL (no close: no final commit, no leave, no release) and started again at
// once, `kills` times; then the load stops and everything must be processed.
//
// resumeMs, one per restart: the restarted app having loaded (its handler module, just before it
// connects) → its first processed event. Node + tsx start-up before that (2–8 s on a loaded test
// VM, less from the compiled image) is the same for every broker and is in the notes, with the
// time from the kill.
//
// What bounds the resume on each broker: Kafka with static membership (platformatic) gets its
// partitions back at once; a dynamic Kafka member (kafkajs) waits until the killed member's
// session expires (sessionTimeoutMs after the kill; the broker's group.min.session.timeout.ms,
// 6 s by default, is the least); a Kinesis worker with a stable leases.workerId takes its own
// leases back at once, one with a fresh id waits until they expire (leases.durationMs); Pub/Sub
// delivers to the new subscriber at once (what the killed one held comes back after its ack
// deadline): on pstest, that is; the gcloud emulator goes on feeding the killed subscriber's
// streams, so its row has no bound (test/integration/pubsub/emulator-dead-streams.test.ts).
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ENDPOINTS } from '../../deploy/local/endpoints.ts';
import { type BrokerRig, kafkaRig, kinesisRig, pubsubRig } from './broker-rig.ts';
import type { ScenarioSize } from './handoff.ts';
import { auditOf, count, drain, collectRows, killLeft, Load, Member, sleep, writeMembersConfig } from './members.ts';
import type { ScenarioContext } from './registry.ts';
import type { ScenarioRow } from './scenario.ts';

/** Events per second, kills, and how long the member runs before each kill. */
export const RESUME_SIZES: Record<ScenarioSize, { rate: number; kills: number; runMs: [number, number] }> = {
  quick: { rate: 300, kills: 1, runMs: [3_000, 4_000] },
  full: { rate: 1_000, kills: 3, runMs: [4_000, 8_000] },
};

export interface ResumeCase {
  rig: BrokerRig;
  /** Merged into the broker's section. */
  settings: Record<string, unknown>;
  /** Environment of every start (the same instance restarted). */
  env?: Record<string, string>;
  /** Pass bound on every resumeMs, where the product promises one. */
  resumeMsMax?: number;
  notes?: string;
}

/** The cases of the table; `full` adds the slow ones (for comparison, no bound). */
export function resumeCases(size: ScenarioSize = 'quick'): ResumeCase[] {
  const cases: ResumeCase[] = [
    {
      rig: kafkaRig('platformatic', 'kafka (platformatic, static)'),
      settings: { staticMembership: true },
      env: { SLUICE_INSTANCE_ID: 'crash-resume' },
      resumeMsMax: 5_000,
      notes: 'static member: the group keeps its partitions for it',
    },
    {
      rig: kafkaRig('kafkajs', 'kafka (kafkajs, session 6 s)'),
      // The least session the broker allows by default (group.min.session.timeout.ms).
      settings: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 2_000 },
      notes: "dynamic member: waits for the killed member's session (sessionTimeoutMs 6000, the broker's minimum)",
    },
    {
      rig: kinesisRig('kinesis (kinesalite, stable workerId)'),
      settings: {},
      env: { SLUICE_BROKER__KINESIS__LEASES__WORKER_ID: 'crash-resume' },
      resumeMsMax: 5_000,
      notes: 'leases.workerId stable across restarts: its own leases are taken back at once',
    },
    {
      rig: pubsubRig('pubsub (pstest)', ENDPOINTS.pstest),
      // What the killed member held comes back once its leases expire: within 10 s, as in the
      // sigkill rows (the client otherwise stretches them to the 99th percentile of its ack
      // times, which a queue full at the kill made a minute: the drain waited that long).
      settings: { lease: { maxAckDeadlineSeconds: 10 } },
      resumeMsMax: 5_000,
    },
    {
      rig: pubsubRig(),
      settings: { lease: { maxAckDeadlineSeconds: 10 } },
      // No bound: the emulator goes on delivering to the killed member's streams, so the new one
      // may get nothing for seconds (5.3 s in CI, up to 10 s with a bare client):
      // test/integration/pubsub/emulator-dead-streams.test.ts. The bound is checked on pstest.
      notes:
        "known emulator behaviour: it feeds the killed member's streams (emulator-dead-streams.test.ts); the 5 s bound is checked on pstest",
    },
  ];
  if (size === 'full') {
    cases.push(
      {
        rig: kafkaRig('kafkajs', 'kafka (kafkajs, session 30 s)'),
        settings: {},
        notes: 'dynamic member, default sessionTimeoutMs 30000',
      },
      {
        rig: kinesisRig('kinesis (kinesalite, fresh workerId)'),
        settings: {},
        notes: 'default workerId (host-pid-random): waits until the leases expire (leases.durationMs 10000)',
      },
    );
  }
  return cases;
}

export const RESUME_SCENARIO = 'sigkill resume';

/** The harness's entry (registry.ts): one row per case the context wants; a case that cannot run is an error row. */
export async function resumeScenario(context: ScenarioContext, cases?: ResumeCase[]): Promise<ScenarioRow[]> {
  return collectRows(
    context,
    RESUME_SCENARIO,
    cases ?? resumeCases(context.quick ? 'quick' : 'full'),
    (item) => item.rig.label,
    (item) => resumeRow(context, item),
  );
}

/** One case: a member under load, killed and restarted `kills` times, then drained; the row. */
export async function resumeRow(context: ScenarioContext, resumeCase: ResumeCase): Promise<ScenarioRow> {
  const { rate, kills, runMs } = RESUME_SIZES[context.quick ? 'quick' : 'full'];
  const { rig } = resumeCase;
  const log = (line: string) => context.log(`[${RESUME_SCENARIO} / ${rig.label}] ${line}`);
  const dir = await mkdtemp(join(context.dir, 'resume-'));
  const children = new Set<ChildProcess>();
  const run = await rig.prepare(resumeCase.settings);
  const load = new Load(run, rate);
  try {
    const configPath = await writeMembersConfig(dir, 'resume', run);
    const members = [new Member(dir, 'run-0', configPath, children, resumeCase.env, context.entry)];
    await members[0]!.firstRecord(120_000);
    const resumeMs: number[] = [];
    const fromSpawn: number[] = [];
    const fromKill: number[] = [];
    for (let kill = 1; kill <= kills; kill++) {
      await sleep(runMs[0] + Math.random() * (runMs[1] - runMs[0]));
      const victim = members[members.length - 1]!;
      const killedAt = victim.signal('SIGKILL');
      await victim.exited;
      const member = new Member(dir, `run-${kill}`, configPath, children, resumeCase.env, context.entry);
      members.push(member);
      const first = await member.firstRecord(120_000);
      const loadedAt = (await member.loadedAt()) ?? member.spawnedAt;
      resumeMs.push(first.at - loadedAt);
      fromSpawn.push(first.at - member.spawnedAt);
      fromKill.push(first.at - killedAt);
      log(`restart ${kill} processed again ${first.at - loadedAt} ms after loading (${first.at - killedAt} ms after the kill)`);
    }
    await sleep(2_000);
    const events = await load.stop();
    const records = await drain(members, events, 120_000);
    const { lost, duplicates, lastAt } = count(events, records);
    const last = members[members.length - 1]!;
    last.signal('SIGTERM');
    const exit = await last.exited;
    const notes = [
      resumeCase.notes,
      `from the spawn: ${fromSpawn.join(', ')} ms; from the kill: ${fromKill.join(', ')} ms`,
      exit.code === 0 ? undefined : `last member exited ${exit.code ?? exit.signal}`,
    ].filter(Boolean);
    return {
      scenario: RESUME_SCENARIO,
      broker: rig.label,
      events,
      lost,
      duplicates,
      resumeMs,
      drainMs: Math.max(0, lastAt - load.stoppedAt),
      audit: await auditOf(members, log),
      bounds: resumeCase.resumeMsMax ? { resumeMsMax: resumeCase.resumeMsMax } : {},
      notes: notes.join('; '),
    };
  } finally {
    await load.stop().catch(() => undefined);
    killLeft(children);
    await run.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
}
