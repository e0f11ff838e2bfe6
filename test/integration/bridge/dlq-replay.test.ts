import { expect, it } from 'vitest';
import { kafkaConfigSchema } from '../../../adapters/kafka/config.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { bridgeFixture, createDestination, fastKafka, killBridgeMidStream, produce, SLOW_BRIDGE, traceparent } from './bridge-harness.ts';

const EVENTS = 3_000;

describeWithBroker('kafka', 'sluice replay of a Kafka dead-letter topic', (kafka) => {
  const bridge = bridgeFixture('sluice-replay-');

  it('republishes every dead letter as the original event (0 lost) across a SIGKILL of the replay', { timeout: 300_000 }, async () => {
    const orders = uniqueName('orders');
    const dlq = `${orders}.dlq`;
    const broker = { type: 'kafka', section: kafkaConfigSchema.parse(fastKafka(kafka.brokers, dlq, uniqueName('unused'))) };
    await createDestination(broker, dlq, 4);
    await createDestination(broker, orders, 4);
    // Dead letters as src/dead-letter writes them: the original headers plus the sluice-* ones.
    await produce(broker, dlq, EVENTS, {
      headers: (n) => ({
        traceparent: traceparent(n),
        'sluice-error': 'handler failed',
        'sluice-error-type': 'Error',
        'sluice-attempts': '3',
        'sluice-source': orders,
        'sluice-partition': `${orders}/0`,
        'sluice-offset': String(n),
        'sluice-event-id': `${orders}/0/${n}`,
        'sluice-failed-at': new Date().toISOString(),
      }),
    });
    const seen = await bridge.read(broker, orders, uniqueName('check'));
    const result = await killBridgeMidStream(bridge, {
      name: 'replay',
      events: EVENTS,
      seen,
      config: { ...SLOW_BRIDGE, broker: { type: 'kafka', kafka: fastKafka(kafka.brokers, dlq, uniqueName('unused')) } },
      replay: ['--from', dlq, '--to', orders, '--group', uniqueName('replay'), '--idle-exit-ms', '3000'],
    });
    console.log(`replay ${dlq} → ${orders}: ${EVENTS} events, ${result.atKill} at the kill, ${result.duplicates} duplicates`);
    expect(seen.deadLetterHeaders, 'republished events still carrying dead-letter headers').toBe(0);
  });
});
