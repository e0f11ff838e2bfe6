// Issue #12, item 2: ordered Pub/Sub after SIGKILLs. `sluice run` reads an ordered subscription
// (64 ordering keys, pool.orderByKey, no dead letters, queue 2,000, pool 16, a 20 ms handler that
// records each event before returning) and is killed with SIGKILL three times mid-stream, then
// drains. Run on both local implementations of the API:
//  - pstest (faithful here: a key's next message is delivered only once the previous one is
//    acked, and a killed client's messages come back when their leases expire): nothing may be
//    lost, and a key's events are first processed in publish order;
//  - the gcloud emulator, which loses messages of ordered subscriptions when a client dies
//    (bare-client reproduction: emulator-ordering.test.ts): the run must complete, and what it
//    lost, duplicated and reordered is printed, not asserted (it is the emulator's).
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PubSubConfig } from '../../../adapters/pubsub/config.ts';
import type { BrokerAdmin, OutgoingEvent, Publisher } from '../../../src/broker/contract.ts';
import { killRepeatedlyThenDrain } from '../crash-restart.ts';
import { describeWithPubSub, pubsubTestAdapter, pubsubTestConfig, type PubSubImplementation } from './helpers.ts';

const EVENTS = 10_000;
const KEYS = 64;
const KILLS = 3;

/** Whether the implementation redelivers everything a killed client held on an ordered subscription. */
const FAITHFUL_ORDERED_REDELIVERY: Record<PubSubImplementation, boolean> = { emulator: false, pstest: true };

describeWithPubSub('pubsub ordered subscription across repeated SIGKILLs', (endpoint, implementation) => {
  let config: PubSubConfig;
  let dir: string;
  let admin: BrokerAdmin;
  let publisher: Publisher;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-pubsub-ordered-crash-'));
    config = pubsubTestConfig(endpoint, { subscriptionSettings: { messageOrdering: true } });
    const adapter = pubsubTestAdapter(config);
    admin = adapter.createAdmin();
    await admin.createDestination(config.topic);
    publisher = adapter.createPublisher();
    await publisher.connect();
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await publisher?.close();
    await admin?.deleteDestination(config.topic).catch(() => undefined);
    await admin?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`processes every event of 64 ordering keys, in order, across ${KILLS} SIGKILLs`, async () => {
    const events: OutgoingEvent[] = Array.from({ length: EVENTS }, (_, n) => ({
      key: `key-${n % KEYS}`,
      payload: Buffer.from(JSON.stringify({ n })),
    }));
    for (let i = 0; i < EVENTS; i += 1_000) await publisher.publish(config.topic, events.slice(i, i + 1_000));

    const result = await killRepeatedlyThenDrain({
      dir,
      name: `ordered-${implementation}`,
      events: EVENTS,
      keys: KEYS,
      kills: KILLS,
      killAfterMs: [1_000, 4_000],
      // Longer than a killed client's leases (10 s below), so a drain that stops has nothing left to wait for.
      idleMs: 30_000,
      children,
      env: { PUBSUB_EMULATOR_HOST: undefined, SLUICE_TEST_HANDLER_MS: '20' }, // the config names the endpoint
      config: {
        broker: {
          type: 'pubsub',
          pubsub: {
            endpoint: config.endpoint,
            projectId: config.projectId,
            topic: config.topic,
            subscription: config.subscription,
            // A killed client's messages stay invisible until the last lease extension it sent
            // expires; on an ordered subscription that blocks their keys. The client stretches
            // extensions up to 10 minutes by default (99th percentile of its ack times, which
            // include waiting behind the queue): bound it so the test sees redeliveries in time.
            lease: { maxAckDeadlineSeconds: 10 },
          },
        },
        deadLetter: { type: 'none' },
        queue: { maxEvents: 2_000 },
        pool: { size: 16, orderByKey: true },
      },
    });
    console.log(
      `pubsub ordered crash (${implementation}): ${EVENTS} events, ${KEYS} keys, ${KILLS} SIGKILLs at ${result.atKills.join('/')} processed; ` +
        `lost ${result.lost.length}, duplicates ${result.duplicates}, order violations ${result.orderViolations}, drain ${(result.drainMs / 1000).toFixed(1)} s`,
    );
    if (FAITHFUL_ORDERED_REDELIVERY[implementation]) {
      expect(result.atKills.at(-1), 'the kills came mid-stream').toBeLessThan(EVENTS);
      expect(result.lost, 'events never processed').toEqual([]);
      expect(result.orderViolations, 'first deliveries out of per-key order').toBe(0);
    }
  }, 480_000);
});
