import { expect, it } from 'vitest';
import { kafkaConfigSchema } from '../../../adapters/kafka/config.ts';
import { pubsubConfigSchema } from '../../../adapters/pubsub/config.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { bridgeFixture, createDestination, fastKafka, killBridgeMidStream, produce, SLOW_BRIDGE } from './bridge-harness.ts';

const EVENTS = 3_000;

describeWithBroker('kafka', 'bridge Kafka → Pub/Sub', (kafka) => {
  describeWithBroker('pubsub', 'emulator', (pubsub) => {
    const bridge = bridgeFixture();

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
      const seen = await bridge.read(destination, to, `${to}-check`);
      const result = await killBridgeMidStream(bridge, {
        name: 'kafka-to-pubsub',
        events: EVENTS,
        seen,
        config: {
          ...SLOW_BRIDGE,
          broker: { type: 'kafka', kafka: kafkaRaw },
          handler: { forward: { broker: { type: 'pubsub', pubsub: pubsubRaw }, destination: to } },
        },
      });
      console.log(`kafka → pubsub: ${EVENTS} events, ${result.atKill} at the kill, ${result.duplicates} duplicates`);
      expect(result.atKill).toBeGreaterThan(0);
    });
  });
});
