// The broker goes away under a running source and comes back. Both clients' sources must turn
// "not ready" while it is gone (health, which /readyz and the SluiceNotReady alert read), be ready
// again once it is back, and deliver what was published meanwhile. kafkajs reports the outage as
// a crash of its consumer and rejoins; @platformatic/kafka retries its heartbeats and fetches by
// itself and says so only in its heartbeat events, which the source turns into the same signal
// (adapters/kafka/kafka-source-core.ts, `outage`): before, it stayed ready and silent throughout.
// The broker is a private node of this test (its own ports and folder), stopped and started by pid.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dataDir } from '../../../deploy/local/paths.ts';
import { PrivateKafka } from '../../../deploy/local/private-kafka.ts';
import type { Publisher, Source } from '../../../src/broker/contract.ts';
import { CollectingSink } from '../../contract/universal-suite.ts';
import { freePort } from '../../sluice-cli.ts';
import { uniqueName } from '../brokers.ts';
import { describeWithKafka, kafkaTestAdapter } from './helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

describeWithKafka('kafka: the broker goes away under a running source', (endpoint) => {
  let node: PrivateKafka;

  beforeAll(async () => {
    node = new PrivateKafka({
      name: `kafka-away-${endpoint.client}-${process.pid}`,
      dir: join(dataDir('kafka-away'), `${endpoint.client}-${process.pid}`),
      port: await freePort(),
      controllerPort: await freePort(),
      saslPort: await freePort(),
    });
    await node.start();
  }, 200_000);

  afterAll(async () => {
    await node?.stop(5_000);
    if (node) await rm(node.instance.dir, { recursive: true, force: true });
  }, 30_000);

  it('is not ready while the broker is gone, then ready again and delivers what was published meanwhile', {
    timeout: 300_000,
  }, async () => {
    const topic = uniqueName('away');
    const adapter = kafkaTestAdapter({ ...endpoint, brokers: node.brokers }, { topics: [topic], group: uniqueName('away') });
    const admin = adapter.createAdmin();
    await admin.createDestination(topic, { partitions: 2 });
    const publisher: Publisher = adapter.createPublisher();
    await publisher.connect();
    const source: Source = adapter.createSource();
    const sink = new CollectingSink(10, true);
    try {
      await source.start(sink);
      await publisher.publish(topic, [{ key: 'k', payload: Buffer.from('before') }]);
      await until('the event published before the outage', () => sink.payloads().includes('before'));
      expect(source.health()).toMatchObject({ connected: true });

      await node.stop(2_000);
      await until('not ready after the broker went away', () => !source.health().connected, 60_000);
      await sleep(3_000);
      // Still gone: still not ready (a retry that fails again does not make it ready).
      expect(source.health().connected, source.health().detail).toBe(false);

      await node.start();
      // The publisher may need a moment to reconnect: publish until it takes the event.
      const deadline = Date.now() + 60_000;
      for (;;) {
        try {
          await publisher.publish(topic, [{ key: 'k', payload: Buffer.from('after') }]);
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await sleep(1_000);
        }
      }
      await until('the event published after the broker came back', () => sink.payloads().includes('after'), 120_000);
      await until('ready again', () => source.health().connected, 60_000);
      expect(sink.fatalErrors).toEqual([]);
    } finally {
      await source.close().catch(() => undefined);
      await publisher.close().catch(() => undefined);
      await admin.close().catch(() => undefined);
    }
  });
});
