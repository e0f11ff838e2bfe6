import { expect, it } from 'vitest';
import { kafkaConfigSchema } from '../../../adapters/kafka/config.ts';
import { kinesisConfigSchema } from '../../../adapters/kinesis/config.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { bridgeFixture, createDestination, fastKafka, killBridgeMidStream, produce, SLOW_BRIDGE } from './bridge-harness.ts';

const EVENTS = 3_000;

describeWithBroker('kinesis', 'bridge Kinesis → Kafka', (kinesis) => {
  describeWithBroker('dynamodb', 'dynalite leases', (dynamodb) => {
    describeWithBroker('kafka', 'kafka', (kafka) => {
      const bridge = bridgeFixture();

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
        const seen = await bridge.read(destination, to, uniqueName('check'));
        const result = await killBridgeMidStream(bridge, {
          name: 'kinesis-to-kafka',
          events: EVENTS,
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
      });
    });
  });
});
