// At-least-once across a crash: a real `sluice run` child reads a stream through a durable
// consumer, is killed with SIGKILL mid-stream (nothing nacked, acks in flight lost), and a second
// one takes over the consumer. What the first held unacked comes back once its ack wait (5 s
// here) expires. Every event must be processed at least once, and the ack audit must be clean.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { NatsConfig } from '../../../adapters/nats/config.ts';
import type { OutgoingEvent, Publisher } from '../../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../../src/broker/tooling.ts';
import { killMidStreamAndRestart } from '../crash-restart.ts';
import { describeWithNats, natsTestAdapter, natsTestConfig } from './helpers.ts';

const EVENTS = 10_000;
const KEYS = 100;

describeWithNats('nats at-least-once across SIGKILL', (endpoint) => {
  let config: NatsConfig;
  let dir: string;
  let admin: BrokerAdmin;
  let publisher: Publisher;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-nats-alo-'));
    config = natsTestConfig(endpoint);
    const adapter = natsTestAdapter(config);
    admin = adapter.createAdmin();
    await admin.createDestination(config.stream);
    publisher = adapter.createPublisher();
    await publisher.connect();
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await publisher?.close();
    await admin?.deleteDestination(config.stream).catch(() => undefined);
    await admin?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('processes every event at least once when the consumer is killed mid-stream and restarted', async () => {
    const events: OutgoingEvent[] = Array.from({ length: EVENTS }, (_, n) => ({
      key: `key-${n % KEYS}`,
      payload: Buffer.from(JSON.stringify({ n })),
    }));
    for (let i = 0; i < EVENTS; i += 1_000) await publisher.publish(config.stream, events.slice(i, i + 1_000));

    const { atKill, duplicates, acks } = await killMidStreamAndRestart({
      dir,
      name: 'nats',
      events: EVENTS,
      children,
      config: {
        broker: {
          type: 'nats',
          nats: {
            servers: config.servers,
            stream: config.stream,
            consumer: config.consumer,
            createResources: true,
            ackWaitMs: config.ackWaitMs,
          },
        },
        queue: { maxEvents: 1_000 },
        pool: { size: 8, orderByKey: true },
      },
    });
    console.log(
      `nats at-least-once: ${EVENTS} events, ${atKill} distinct processed before SIGKILL, ${duplicates} duplicates after restart, audit clean over ${acks} acks`,
    );
    expect(atKill).toBeGreaterThan(0);
  });
});
