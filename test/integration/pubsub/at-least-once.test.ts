// At-least-once across a crash: a real `sluice run` child process consumes a backlog, is killed
// with SIGKILL mid-stream (no graceful close: nothing nacked, acks in the client's batch lost),
// and a second one takes over the subscription. Messages the first one held unacked come back
// once their leases expire. Every event must be processed at least once.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import type { PubSubConfig } from '../../../adapters/pubsub/config.ts';
import type { OutgoingEvent, Publisher } from '../../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../../src/broker/tooling.ts';
import { killMidStreamAndRestart } from '../crash-restart.ts';
import { describeWithPubSub, pubsubTestAdapter, pubsubTestConfig } from './helpers.ts';

const EVENTS = 10_000;
const KEYS = 100;

describeWithPubSub('pubsub at-least-once across SIGKILL', (endpoint, implementation) => {
  let config: PubSubConfig;
  let dir: string;
  let admin: BrokerAdmin;
  let publisher: Publisher;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-pubsub-alo-'));
    // Unordered: the emulator does not redeliver every message of an *ordered* subscription that a
    // killed client held (emulator-ordering.test.ts), which real Pub/Sub does; the ordered case is
    // ordered-crash.test.ts. At-least-once itself does not depend on ordering.
    config = pubsubTestConfig(endpoint, { subscriptionSettings: { messageOrdering: false } });
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

  it('processes every event at least once when the consumer is killed mid-stream and restarted', async () => {
    const events: OutgoingEvent[] = Array.from({ length: EVENTS }, (_, n) => ({
      key: `key-${n % KEYS}`,
      payload: Buffer.from(JSON.stringify({ n })),
    }));
    for (let i = 0; i < EVENTS; i += 1_000) await publisher.publish(config.topic, events.slice(i, i + 1_000));

    // What the killed client held is redelivered when its leases expire (the ack deadline).
    const { atKill, duplicates, acks } = await killMidStreamAndRestart({
      dir,
      name: `pubsub-${implementation}`,
      events: EVENTS,
      children,
      env: { PUBSUB_EMULATOR_HOST: undefined }, // the config names the endpoint
      config: {
        broker: {
          type: 'pubsub',
          pubsub: {
            endpoint: config.endpoint,
            projectId: config.projectId,
            topic: config.topic,
            subscription: config.subscription,
            // Leases of the killed client expire within 10 s: the client otherwise stretches them
            // to the 99th percentile of its ack times (messages waiting behind the queue count).
            lease: { maxAckDeadlineSeconds: 10 },
          },
        },
        queue: { maxEvents: 1_000 },
        pool: { size: 8, orderByKey: true },
      },
    });
    console.log(
      `pubsub at-least-once (${implementation}): ${EVENTS} events, ${atKill} distinct processed before SIGKILL, ${duplicates} duplicates after restart, audit clean over ${acks} acks`,
    );
  }, 240_000);
});
