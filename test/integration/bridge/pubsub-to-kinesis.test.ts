import { expect, it } from 'vitest';
import { kinesisConfigSchema } from '../../../adapters/kinesis/config.ts';
import { pubsubConfigSchema } from '../../../adapters/pubsub/config.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { bridgeFixture, createDestination, killBridgeMidStream, produce, SLOW_BRIDGE } from './bridge-harness.ts';

const EVENTS = 3_000;

describeWithBroker('pubsub', 'bridge Pub/Sub → Kinesis', (pubsub) => {
  describeWithBroker('kinesis', 'kinesalite', (kinesis) => {
    describeWithBroker('dynamodb', 'dynalite leases', (dynamodb) => {
      const bridge = bridgeFixture();

      it('forwards every event (0 lost) across a SIGKILL of the bridge, traceparent kept', { timeout: 300_000 }, async () => {
        const from = uniqueName('bridge-p2k');
        const to = uniqueName('bridge-p2k-out');
        const pubsubRaw = {
          endpoint: pubsub.emulatorHost,
          projectId: pubsub.projectId,
          topic: from,
          subscription: `${from}-bridge`,
          // Unacked events of the killed bridge come back to the next one after this long. Not
          // ordered: the gcloud emulator drops messages of an ordered subscription whose client
          // died (adapters/pubsub/README.md, test/integration/pubsub/emulator-ordering.test.ts).
          subscriptionSettings: { ackDeadlineSeconds: 10, messageOrdering: false },
          // Leases the killed bridge held expire after 10 s instead of the client's 60 s.
          lease: { maxAckDeadlineSeconds: 10 },
        };
        const kinesisRaw = {
          stream: to,
          region: kinesis.region,
          endpoint: kinesis.url,
          credentials: { ...kinesis.credentials },
        };
        const source = { type: 'pubsub', section: pubsubConfigSchema.parse(pubsubRaw) };
        const destination = {
          type: 'kinesis',
          section: kinesisConfigSchema.parse({
            ...kinesisRaw,
            application: uniqueName('check'),
            checkpointIntervalMs: 200,
            consumer: { pollIntervalMs: 200 },
            leases: { type: 'dynamodb', endpoint: dynamodb.url, durationMs: 2_000, renewIntervalMs: 500, takeIntervalMs: 500 },
          }),
        };
        await createDestination(source, from);
        await createDestination(destination, to, 2);
        await produce(source, from, EVENTS);
        const seen = await bridge.read(destination, to, uniqueName('check'));
        const result = await killBridgeMidStream(bridge, {
          name: 'pubsub-to-kinesis',
          events: EVENTS,
          seen,
          config: {
            ...SLOW_BRIDGE,
            broker: { type: 'pubsub', pubsub: pubsubRaw },
            handler: { forward: { broker: { type: 'kinesis', kinesis: kinesisRaw }, destination: to } },
          },
        });
        console.log(`pubsub → kinesis: ${EVENTS} events, ${result.atKill} at the kill, ${result.duplicates} duplicates`);
        expect(result.atKill).toBeGreaterThan(0);
      });
    });
  });
});
