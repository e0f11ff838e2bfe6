import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kafkaConfigSchema } from '../../../adapters/kafka/config.ts';
import { pubsubConfigSchema } from '../../../adapters/pubsub/config.ts';
import { killChildren } from '../../crash/sluice-child.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { createDestination, fastKafka, killBridgeMidStream, produce, readDestination, SLOW_BRIDGE } from './bridge-harness.ts';

const EVENTS = 3_000;

describeWithBroker('kafka', 'bridge Kafka → Pub/Sub', (kafka) => {
  describeWithBroker('pubsub', 'emulator', (pubsub) => {
    const children = new Set<ChildProcess>();
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'sluice-bridge-'));
    });
    afterAll(async () => {
      killChildren(children);
      await rm(dir, { recursive: true, force: true });
    });

    it('forwards every event (0 lost) across a SIGKILL of the bridge, traceparent kept', { timeout: 300_000 }, async () => {
      const from = uniqueName('bridge-k2p');
      const to = uniqueName('bridge-k2p-out');
      const kafkaRaw = fastKafka(kafka.brokers, from, uniqueName('bridge'));
      const pubsubRaw = { endpoint: pubsub.emulatorHost, projectId: pubsub.projectId, createResources: true };
      const source = { type: 'kafka', section: kafkaConfigSchema.parse(kafkaRaw) };
      const destination = { type: 'pubsub', section: pubsubConfigSchema.parse({ ...pubsubRaw, topic: to, subscription: `${to}-check` }) };
      await createDestination(source, from, 4);
      await produce(source, from, EVENTS);
      // The reader's subscription exists before the first forward, so it gets every one.
      const seen = await readDestination(destination, to, `${to}-check`);
      try {
        const result = await killBridgeMidStream({
          dir,
          name: 'kafka-to-pubsub',
          events: EVENTS,
          children,
          seen,
          config: {
            ...SLOW_BRIDGE,
            broker: { type: 'kafka', kafka: kafkaRaw },
            handler: { forward: { broker: { type: 'pubsub', pubsub: pubsubRaw }, destination: to } },
          },
        });
        console.log(`kafka → pubsub: ${EVENTS} events, ${result.atKill} at the kill, ${result.duplicates} duplicates`);
        expect(result.atKill).toBeGreaterThan(0);
      } finally {
        await seen.source.stop();
        await seen.source.close();
      }
    });
  });
});
