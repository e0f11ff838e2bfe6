// At-least-once across a crash: a real `sluice run` child process consumes a backlog, is killed
// with SIGKILL mid-stream (no graceful close, no final commit), and a second one takes over from
// the committed offsets. Every event must be processed at least once.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import type { KafkaAdapter } from '../../../adapters/kafka/kafka-adapter.ts';
import type { OutgoingEvent, Publisher } from '../../../src/broker/contract.ts';
import type { BrokerAdmin } from '../../../src/broker/tooling.ts';
import { uniqueName } from '../brokers.ts';
import { killMidStreamAndRestart } from '../crash-restart.ts';
import { describeWithKafka, kafkaTestAdapter } from './helpers.ts';

const EVENTS = 20_000;
const KEYS = 200;

describeWithKafka('kafka at-least-once across SIGKILL', (endpoint) => {
  const topic = uniqueName('alo');
  let dir: string;
  let adapter: KafkaAdapter;
  let admin: BrokerAdmin;
  let publisher: Publisher;
  const children = new Set<ChildProcess>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-kafka-alo-'));
    adapter = kafkaTestAdapter(endpoint, { topics: [topic] });
    admin = adapter.createAdmin();
    await admin.createDestination(topic, { partitions: 4 });
    publisher = adapter.createPublisher();
    await publisher.connect();
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    await publisher?.close();
    await admin?.deleteDestination(topic).catch(() => undefined);
    await admin?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('processes every event at least once when the consumer is killed mid-stream and restarted', async () => {
    const events: OutgoingEvent[] = Array.from({ length: EVENTS }, (_, n) => ({
      key: `key-${n % KEYS}`,
      payload: Buffer.from(JSON.stringify({ n })),
    }));
    for (let i = 0; i < EVENTS; i += 2_000) await publisher.publish(topic, events.slice(i, i + 2_000));

    const { atKill, duplicates, acks } = await killMidStreamAndRestart({
      dir,
      name: 'kafka',
      events: EVENTS,
      children,
      env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      config: {
        broker: {
          type: 'kafka',
          kafka: {
            brokers: endpoint.brokers,
            client: endpoint.client,
            topics: [topic],
            group: `${topic}-group`,
            commitIntervalMs: 200,
            fetch: { maxWaitTimeMs: 100 },
            // The killed member holds its partitions until its session expires: keep that short.
            sessionTimeoutMs: 6_000,
            heartbeatIntervalMs: 1_000,
            revokeTimeoutMs: 5_000,
          },
        },
        queue: { maxEvents: 2_000 },
        pool: { size: 8 },
      },
    });
    console.log(
      `kafka at-least-once: ${EVENTS} events, ${atKill} distinct processed before SIGKILL, ${duplicates} duplicates after restart, audit clean over ${acks} acks`,
    );
  });
});
