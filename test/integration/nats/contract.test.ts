import { runContractSuite } from '../../contract/universal-suite.ts';
import { describeWithNats, natsTestAdapter, natsTestConfig } from './helpers.ts';

describeWithNats('nats adapter', (endpoint) => {
  // Default consumer (max_ack_pending 20,000): a nack lets later messages overtake, so the case
  // of a nacked event kept ahead of its key is skipped by feature; `ordered` runs it.
  for (const ordered of [false, true]) {
    runContractSuite({
      name: ordered ? 'nats (ordered: max_ack_pending 1)' : 'nats',
      timeoutMs: 20_000,
      // max_ack_pending 1 hands out the next message only once the previous one is acked.
      deliversUnackedBacklogOfKey: !ordered,
      notApplicable: ordered
        ? {
            'does not deliver again while a delivery is pending (backpressure)': 'one message at a time: nothing to hold back',
            'redelivers to the next source what was delivered and never acked (redelivery after close)':
              'one unacked message at a time: covered by the default consumer',
            'commits acks made after stop() when it closes (ack after stop)':
              'one unacked message at a time: covered by the default consumer',
            'shares a group between two sources without loss': 'one unacked message at a time: covered by the default consumer',
            'runs through the pipeline without loss under backpressure':
              'covered by the default consumer (slow at one message per round trip)',
            'after a restart, redelivers what was not acked and not what was':
              'it waits for an unacked event of each of 4 keys at once; max_ack_pending 1 hands out one: covered by the default consumer',
          }
        : {},
      async setup() {
        const config = natsTestConfig(endpoint, { ordered });
        const adapter = natsTestAdapter(config);
        const admin = adapter.createAdmin();
        await admin.createDestination(config.stream);
        return {
          adapter,
          destination: config.stream,
          async teardown() {
            await admin.deleteDestination(config.stream).catch(() => undefined);
            await admin.close();
          },
        };
      },
    });
  }
});
