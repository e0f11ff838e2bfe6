// The bridge crash test all four bridging tests run: events 0..N-1 are in a source topic/stream,
// a real `sluice run` child forwards them (handler.forward) to a destination on another broker,
// is SIGKILLed mid-stream (no flush, no final commit), and a second child takes over. A reader
// of the destination, started before the bridge, must see every event number: 0 lost.
// Duplicates are allowed (at-least-once) and counted. bridgeFixture() is the set-up every bridge
// test file shares: scratch directory, children and destination readers, cleaned up after.
import type { ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { stringify } from 'yaml';
import type { EventSink, OutgoingEvent, Source, SourceEvent } from '../../../src/broker/contract.ts';
import { adapters } from '../../../src/composition/adapters.ts';
import { killChildren } from '../../crash/sluice-child.ts';
import { runSluice } from '../crash-restart.ts';
import { type SluiceProcess, spawnSluice } from '../../sluice-cli.ts';

const silent = pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });

/**
 * What every bridge test of a describe block shares: a scratch directory (configs, child logs),
 * the `sluice` children started in it, and the destination readers it opened.
 */
export interface BridgeFixture {
  /** The scratch directory, made before the block's tests and removed after them. */
  readonly dir: string;
  /** Sluice children started for the block: SIGKILLed after it, if any still runs. */
  readonly children: Set<ChildProcess>;
  /** {@link readDestination}, its source stopped and closed after the test. */
  read(broker: BrokerSection, destination: string, group: string): Promise<Seen>;
}

/** Call inside a describe block: registers the set-up and clean-up of a {@link BridgeFixture}. */
export function bridgeFixture(prefix = 'sluice-bridge-'): BridgeFixture {
  const children = new Set<ChildProcess>();
  const readers: Source[] = [];
  let dir: string | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const source of readers.splice(0)) {
      await source.stop();
      await source.close();
    }
  });
  afterAll(async () => {
    killChildren(children);
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      if (dir === undefined) throw new Error('bridgeFixture: the scratch directory exists only inside the tests');
      return dir;
    },
    children,
    async read(broker, destination, group) {
      const seen = await readDestination(broker, destination, group);
      readers.push(seen.source);
      return seen;
    },
  };
}

/** A broker section as the adapter's schema validated it. */
export interface BrokerSection {
  type: string;
  section: Record<string, unknown>;
}

async function adapterOf({ type, section }: BrokerSection) {
  const module = await adapters[type]!.module();
  return { module, adapter: module.createAdapter(section as never, { logger: silent, registry: new Registry() }) };
}

/** Creates topic / stream `name` (a Pub/Sub section's admin creates its subscription on it too). */
export async function createDestination(broker: BrokerSection, name: string, partitions = 4): Promise<void> {
  const { adapter } = await adapterOf(broker);
  const admin = adapter.createAdmin();
  await admin.createDestination(name, { partitions });
  await admin.close();
}

/** Events 0..count-1 as `{"n": <number>}` with `keys` keys and a traceparent header, published in batches. */
export async function produce(
  broker: BrokerSection,
  destination: string,
  count: number,
  options: { keys?: number; headers?: (n: number) => Record<string, string> } = {},
): Promise<void> {
  const { adapter } = await adapterOf(broker);
  const publisher = adapter.createPublisher();
  await publisher.connect();
  const keys = options.keys ?? 16;
  for (let from = 0; from < count; from += 500) {
    const batch: OutgoingEvent[] = [];
    for (let n = from; n < Math.min(count, from + 500); n++) {
      batch.push({
        key: `k${n % keys}`,
        payload: Buffer.from(JSON.stringify({ n })),
        headers: options.headers?.(n) ?? { traceparent: traceparent(n) },
      });
    }
    await publisher.publish(destination, batch);
  }
  await publisher.close();
}

/** A W3C traceparent that encodes the event number, to check headers pass through. */
export const traceparent = (n: number) => `00-${n.toString(16).padStart(32, '0')}-${'1'.padStart(16, '0')}-01`;

/** What the destination reader saw. */
export interface Seen {
  numbers: number[];
  /** Events whose traceparent header did not come through. */
  lostHeaders: number;
  /** Events that carried a dead-letter header (`sluice-*`). */
  deadLetterHeaders: number;
  source: Source;
}

/**
 * Reads `destination` through the adapter's own source (as consumer group / subscription
 * `group`), acking everything: the same decoding as Sluice (Kinesis envelopes, Pub/Sub attributes).
 */
export async function readDestination(broker: BrokerSection, destination: string, group: string): Promise<Seen> {
  const { module } = await adapterOf(broker);
  const retargeted = {
    type: broker.type,
    section: module.retarget(broker.section as never, destination, group) as Record<string, unknown>,
  };
  const { adapter } = await adapterOf(retargeted);
  const source = adapter.createSource();
  const seen: Seen = { numbers: [], lostHeaders: 0, deadLetterHeaders: 0, source };
  const sink: EventSink = {
    maxBatch: 500,
    capacity: { events: 10_000, bytes: 64 * 1024 * 1024 },
    deliver: async (events: SourceEvent[]) => {
      for (const event of events) {
        const n = (JSON.parse(event.payload.toString()) as { n: number }).n;
        seen.numbers.push(n);
        if (event.headers.traceparent !== traceparent(n)) seen.lostHeaders++;
        if (Object.keys(event.headers).some((name) => name.startsWith('sluice-'))) seen.deadLetterHeaders++;
        event.ack();
      }
    },
    discard: () => [],
    fatal: (error) => {
      throw error;
    },
  };
  await source.start(sink);
  return seen;
}

export interface BridgeCrashOptions {
  name: string;
  events: number;
  /** The Sluice config of the bridge: broker (the source) and handler.forward. */
  config: Record<string, unknown>;
  seen: Seen;
  /**
   * `sluice replay` with these arguments (after `--config <file>`) instead of `sluice run`: the
   * second child must then exit 0 by itself once caught up and say how many it replayed.
   */
  replay?: string[];
}

const distinct = (seen: Seen) => new Set(seen.numbers).size;

function spawnReplay(args: string[], children: Set<ChildProcess>, log: string): SluiceProcess & { child: ChildProcess } {
  const started = spawnSluice(args);
  children.add(started.child);
  started.child.once('exit', () => void appendFile(log, started.output.stderr).catch(() => undefined));
  return started;
}

async function waitFor(what: string, ms: number, check: () => boolean, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (child.exitCode !== null && child.exitCode !== 0 && !check())
      throw new Error(`sluice child exited (${child.exitCode}) while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Kill the bridge at a third, restart it, wait for all; asserts none is missing. */
export async function killBridgeMidStream(
  { dir, children }: Pick<BridgeFixture, 'dir' | 'children'>,
  options: BridgeCrashOptions,
): Promise<{ atKill: number; duplicates: number }> {
  const { name, events, seen } = options;
  const write = async (file: string, config: Record<string, unknown>) => {
    const path = join(dir, file);
    await writeFile(
      path,
      stringify({
        metrics: { enabled: false },
        log: { level: process.env.SLUICE_TEST_BRIDGE_LOG ?? 'warn', summaryIntervalMs: 0 },
        ...config,
      }),
    );
    return path;
  };
  // The first bridge is slowed down so that the kill lands mid-stream; the second drains at full speed.
  const { faults: _, queue: __, ...restart } = options.config;
  const configs = [
    await write(`${name}.sluice.yaml`, options.config),
    await write(`${name}.restart.sluice.yaml`, { ...restart, pool: { size: 64, orderByKey: true } }),
  ];
  const log = join(dir, `${name}.log`);
  const start = (configPath: string): { child: ChildProcess; replay?: SluiceProcess } => {
    if (!options.replay) return { child: runSluice(configPath, join(dir, `${name}.unused.txt`), { children, logFile: log }) };
    const replay = spawnReplay(['replay', '--config', configPath, ...options.replay], children, log);
    return { child: replay.child, replay };
  };
  const t0 = Date.now();
  const phases: string[] = [];
  const phase = (what: string) => phases.push(`${what} +${((Date.now() - t0) / 1000).toFixed(1)}s`);
  const first = start(configs[0]!).child;
  await waitFor('a third of the events at the destination', 120_000, () => distinct(seen) >= events / 3, first);
  process.kill(first.pid!, 'SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  const atKill = distinct(seen);
  phase('killed');
  expect(atKill, 'the kill must come mid-stream').toBeLessThan(events);

  const second = start(configs[1]!);
  const firstNew = seen.numbers.length;
  void waitFor('the restarted bridge forwarding', 120_000, () => seen.numbers.length > firstNew, second.child).then(
    () => phase('restarted bridge forwarding'),
    () => undefined,
  );
  if (second.replay) {
    // The replay ends by itself once caught up; everything is at the destination by then.
    const code = await second.replay.exited;
    expect(code, `replay exit (stderr: ${second.replay.output.stderr.slice(-2000)})`).toBe(0);
    expect(second.replay.output.stdout).toMatch(/replayed \d+ events from /);
    await waitFor(`all ${events} events at the destination`, 30_000, () => distinct(seen) >= events, second.child);
  } else {
    await waitFor(`all ${events} events at the destination`, 120_000, () => distinct(seen) >= events, second.child).catch(
      (error: Error) => {
        throw new Error(`${error.message}: ${distinct(seen)} distinct of ${seen.numbers.length} seen (log: ${log})`);
      },
    );
    second.child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => second.child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code, 'graceful exit of the second bridge').toBe(0);
  }

  phase('all there');
  console.log(`${name}: ${phases.join(', ')}`);
  const all = new Set(seen.numbers);
  const missing = Array.from({ length: events }, (_, n) => n).filter((n) => !all.has(n));
  expect(missing, 'events never forwarded').toEqual([]);
  expect(seen.lostHeaders, 'events whose traceparent header was lost').toBe(0);
  return { atKill, duplicates: seen.numbers.length - all.size };
}

/**
 * Bridge settings that keep a few thousand events in flight for a few seconds on a loaded
 * machine, so that the kill lands mid-stream: a small pool, small batches, per-key order.
 */
export const SLOW_BRIDGE = {
  queue: { maxEvents: 200 },
  pool: { size: 8, orderByKey: true },
  faults: { enabled: true, handlerLatencyMs: 4 },
};

/**
 * A Kafka source section that fails over quickly after a SIGKILL: the group drops the dead member
 * after the broker's least session timeout instead of the default.
 */
export const fastKafka = (brokers: string[], topic: string, group: string) => ({
  brokers,
  topics: [topic],
  group,
  commitIntervalMs: 100,
  sessionTimeoutMs: 6_000,
  heartbeatIntervalMs: 1_000,
  rebalanceTimeoutMs: 10_000,
  revokeTimeoutMs: 5_000,
  fetch: { maxWaitTimeMs: 100 },
});
