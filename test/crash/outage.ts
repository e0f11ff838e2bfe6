// Broker outage (issue #12, item 4): the broker goes away for 15 s mid-stream and comes back;
// Sluice must ride it out, lose nothing, and process again at most what was in flight (the
// queue plus what the source and the pool held): a member that gets back the partitions, shards
// or stream it had resumes from what it completed, not from its last successful commit.
//
// Kafka: a private broker (own ports and folder) stopped by pid and started again on the same
// storage. Kinesis (kinesalite + dynalite leases) and Pub/Sub (emulator): their emulators lose
// everything on restart, so toxiproxy cuts the connection instead.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Toxiproxy } from '../../deploy/local/toxiproxy.ts';
import { freePort } from '../sluice-cli.ts';
import { type KafkaClientName, kafkaOutageRows } from './outage-kafka.ts';
import { kinesisOutageRow } from './outage-kinesis.ts';
import { pubsubOutageRow } from './outage-pubsub.ts';
import { SCENARIO } from './outage-run.ts';
import type { ScenarioContext } from './registry.ts';
import type { ScenarioRow } from './scenario.ts';

export type OutageTarget = KafkaClientName | 'kinesis' | 'pubsub';
export const OUTAGE_TARGETS: readonly OutageTarget[] = ['kafkajs', 'platformatic', 'kinesis', 'pubsub'];

export interface OutageOptions {
  /** `full`: the run (40,000 events, queue 2,000); `quick`: CI's (8,000 events, queue 500). */
  size?: 'full' | 'quick';
  /** Which rows (default all four). */
  targets?: readonly OutageTarget[];
  /** How long the broker stays away (default 15 s). */
  outageMs?: number;
  /** Progress lines (default: none). */
  log?: (msg: string) => void;
  /** How to start sluice (default: the sources through tsx). */
  entry?: readonly string[];
  /** A scratch folder to use (default: a fresh one, removed at the end). */
  dir?: string;
}

const SIZES = {
  full: { events: 40_000, keys: 64, queue: 2_000, pool: 16 },
  quick: { events: 8_000, keys: 64, queue: 500, pool: 16 },
} as const;

/** Runs the broker-outage scenario on each target; one row per target. */
export async function brokerOutage(options: OutageOptions = {}): Promise<ScenarioRow[]> {
  const size = SIZES[options.size ?? 'full'];
  const targets = options.targets ?? OUTAGE_TARGETS;
  const log = options.log ?? (() => undefined);
  const outageMs = options.outageMs ?? 15_000;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'sluice-outage-')));
  log(`scratch folder ${dir}`);
  const children = new Set<ChildProcess>();
  const common = { ...size, outageMs, dir, children, log, entry: options.entry };
  const rows: ScenarioRow[] = [];
  let toxiproxy: Toxiproxy | undefined;
  try {
    const clients = targets.filter((t): t is KafkaClientName => t === 'kafkajs' || t === 'platformatic');
    if (clients.length > 0) rows.push(...(await kafkaOutageRows({ ...common, clients })));
    if (targets.includes('kinesis') || targets.includes('pubsub')) {
      toxiproxy = new Toxiproxy(await freePort(), log);
      await toxiproxy.start();
      if (targets.includes('kinesis')) rows.push(await kinesisOutageRow({ ...common, toxiproxy }));
      if (targets.includes('pubsub')) rows.push(await pubsubOutageRow({ ...common, toxiproxy }));
    }
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await toxiproxy?.stop();
    if (!process.env.SLUICE_OUTAGE_KEEP && !options.dir) await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

const LABELS: Record<OutageTarget, string> = {
  kafkajs: 'kafka (kafkajs)',
  platformatic: 'kafka (platformatic)',
  kinesis: 'kinesis (kinesalite)',
  pubsub: 'pubsub (emulator)',
};

/** The harness's entry (registry.ts): the rows `--only` asks for, quick in CI. */
export function outageScenario(context: ScenarioContext): Promise<ScenarioRow[]> {
  const targets = OUTAGE_TARGETS.filter((target) => context.wants(SCENARIO(15_000), LABELS[target]));
  if (targets.length === 0) return Promise.resolve([]);
  return brokerOutage({ size: context.quick ? 'quick' : 'full', targets, log: context.log, entry: context.entry, dir: context.dir });
}
