import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kafkaConfigSchema } from '../../../adapters/kafka/config.ts';
import { kinesisConfigSchema } from '../../../adapters/kinesis/config.ts';
import { killChildren } from '../../crash/sluice-child.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { createDestination, fastKafka, killBridgeMidStream, produce, readDestination, SLOW_BRIDGE } from './bridge-harness.ts';

const EVENTS = 3_000;

describeWithBroker('kinesis', 'bridge Kinesis → Kafka', (kinesis) => {
  describeWithBroker('dynamodb', 'dynalite leases', (dynamodb) => {
    describeWithBroker('kafka', 'kafka', (kafka) => {
      const children = new Set<ChildProcess>();
      let dir: string;
      beforeAll(async () => {
        dir = await mkdtemp(join(tmpdir(), 'sluice-bridge-'));
      });
      afterAll(async () => {
        killChildren(children);
        await rm(dir, { recursive: true, force: true });
      });

      it('forwards every event (0 lost) across a SIGKILL of the bridge, Kinesis envelope headers kept', { timeout: 300_000 }, async () => {
        const from = uniqueName('bridge-k2k');
        const to = uniqueName('bridge-k2k-out');
        const kinesisRaw = {
          stream: from,
          application: uniqueName('bridge'),
          region: kinesis.region,
          endpoint: kinesis.url,
          credentials: { ...kinesis.credentials },
          checkpointIntervalMs: 200,
          consumer: { pollIntervalMs: 200 },
          // The killed bridge's leases expire quickly, so the next one takes the shards over.
          leases: { type: 'dynamodb', endpoint: dynamodb.url, durationMs: 2_000, renewIntervalMs: 500, takeIntervalMs: 500 },
        };
        const source = { type: 'kinesis', section: kinesisConfigSchema.parse(kinesisRaw) };
        const destination = { type: 'kafka', section: kafkaConfigSchema.parse(fastKafka(kafka.brokers, to, uniqueName('check'))) };
        await createDestination(source, from, 2);
        await createDestination(destination, to, 4);
        await produce(source, from, EVENTS);
        const seen = await readDestination(destination, to, uniqueName('check'));
        try {
          const result = await killBridgeMidStream({
            dir,
            name: 'kinesis-to-kafka',
            events: EVENTS,
            children,
            seen,
            config: {
              ...SLOW_BRIDGE,
              broker: { type: 'kinesis', kinesis: kinesisRaw },
              handler: {
                forward: {
                  broker: { type: 'kafka', kafka: { brokers: kafka.brokers, topics: [to] } },
                  destination: to,
                  batch: { maxEvents: 8 },
                },
              },
            },
          });
          console.log(`kinesis → kafka: ${EVENTS} events, ${result.atKill} at the kill, ${result.duplicates} duplicates`);
          expect(result.atKill).toBeGreaterThan(0);
        } finally {
          await seen.source.stop();
          await seen.source.close();
        }
      });
    });
  });
});
