// Pub/Sub dead letters are replayable from the first one: the dead-letter writer creates the
// dead-letter topic together with its replay subscription (`<topic>-replay`) before it publishes,
// and `sluice replay` reads that subscription by default. A subscription only holds what is
// published after it exists, so without it the dead letters written before the replay started
// would be gone for the replay (this test then fails with 0 replayed).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { stringify } from 'yaml';
import { pubsubConfigSchema } from '../../../adapters/pubsub/config.ts';
import type { SourceEvent } from '../../../src/broker/contract.ts';
import { adapters } from '../../../src/composition/adapters.ts';
import { PublisherDeadLetter } from '../../../src/dead-letter/publisher-dead-letter.ts';
import { spawnSluice } from '../../sluice-cli.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { bridgeFixture, createDestination, traceparent } from './bridge-harness.ts';

const EVENTS = 500;

describeWithBroker('pubsub', 'sluice replay of Pub/Sub dead letters', (pubsub) => {
  const bridge = bridgeFixture('sluice-pubsub-replay-');

  it('replays every dead letter written before the replay started, through <dlq>-replay by default', { timeout: 180_000 }, async () => {
    const orders = uniqueName('orders');
    const source = `${orders}-sub`; // what the failed events were read from: dead letters go to `<source>.dlq`
    const dlq = `${source}.dlq`;
    const raw = {
      endpoint: pubsub.emulatorHost,
      projectId: pubsub.projectId,
      topic: orders,
      subscription: source,
      createResources: true,
      subscriptionSettings: { messageOrdering: false },
    };
    const section = pubsubConfigSchema.parse(raw);
    const broker = { type: 'pubsub', section };

    // The dead-letter writer as `sluice run` builds it (src/di/container.ts), on a topic nobody created.
    const module = await adapters.pubsub!.module();
    const adapter = module.createAdapter(section as never, { logger: pino({ level: 'silent' }), registry: new Registry() });
    expect(adapter.createDeadLetterPublisher, 'the Pub/Sub adapter has its own dead-letter publisher').toBeTypeOf('function');
    const deadLetters = new PublisherDeadLetter(adapter.createDeadLetterPublisher!(), '{source}.dlq', 'pubsub');
    const failure = new Error('handler failed');
    for (let n = 0; n < EVENTS; n++) {
      const event: SourceEvent = {
        id: `m${n}`,
        key: `k${n % 16}`,
        payload: Buffer.from(JSON.stringify({ n })),
        headers: { traceparent: traceparent(n) },
        timestamp: Date.now(),
        position: { partition: source, offset: `m${n}` },
        source,
        attempt: 3,
        ack: () => undefined,
        nack: () => undefined,
      };
      await deadLetters.write(event, failure, 3);
    }
    await deadLetters.close();

    // The replay's destination and a reader of it; the replay itself starts only now.
    await createDestination(broker, orders);
    const seen = await bridge.read(broker, orders, uniqueName('check'));
    const configPath = join(bridge.dir, 'replay.sluice.yaml');
    await writeFile(
      configPath,
      stringify({ metrics: { enabled: false }, log: { level: 'warn', summaryIntervalMs: 0 }, broker: { type: 'pubsub', pubsub: raw } }),
    );
    // No --group: the replay reads `<dlq>-replay`, the subscription the writer created.
    const replay = spawnSluice(['replay', '--config', configPath, '--from', dlq, '--to', orders, '--idle-exit-ms', '3000']);
    bridge.children.add(replay.child);
    const code = await replay.exited;
    expect(code, `replay exit (stderr: ${replay.output.stderr.slice(-2000)})`).toBe(0);
    expect(replay.output.stdout).toContain(`replayed ${EVENTS} events from ${dlq} to ${orders}`);

    const deadline = Date.now() + 60_000;
    while (new Set(seen.numbers).size < EVENTS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    const all = new Set(seen.numbers);
    const missing = Array.from({ length: EVENTS }, (_, n) => n).filter((n) => !all.has(n));
    expect(missing, 'dead letters never replayed').toEqual([]);
    expect(seen.deadLetterHeaders, 'replayed events still carrying dead-letter headers').toBe(0);
    expect(seen.lostHeaders, 'replayed events whose traceparent was lost').toBe(0);
  });
});
