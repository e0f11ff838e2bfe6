// Enhanced fan-out (consumer.type: efo) against kinesis-mock: SubscribeToShard over HTTP/2 on
// its TLS port (self-signed certificate accepted through the handler's option, not through
// NODE_TLS_REJECT_UNAUTHORIZED). The contract suite passes in this mode; checkpoints written
// from fan-out reads resume a restarted consumer; a subscription that ends is renewed after
// the last event handed over, with nothing lost or repeated.
import { SubscribeToShardCommand } from '@aws-sdk/client-kinesis';
import { expect, it } from 'vitest';
import { createClients } from '../../../adapters/kinesis/clients.ts';
import type { Sendable } from '../../../adapters/kinesis/clients.ts';
import { runContractSuite, CollectingSink, eventually } from '../../contract/universal-suite.ts';
import { describeWithBroker, type AwsEndpoint } from '../brokers.ts';
import { adapterFor, freshStream, localConfig, sleep } from './helpers.ts';

const efo = (mock: AwsEndpoint) => ({
  consumer: { type: 'efo', efoEndpoint: mock.tlsUrl, tlsRejectUnauthorized: false, fatalAfterMs: 2_000 },
});
const n = (payload: Buffer) => (JSON.parse(payload.toString()) as { n: number }).n;

/** Ends every subscription after `events` events, as Kinesis does after five minutes. */
class ShortSubscriptions implements Sendable {
  subscriptions = 0;
  constructor(
    private readonly inner: Sendable,
    private readonly events: number,
  ) {}
  async send(command: { constructor: { name: string } }, options?: { abortSignal?: AbortSignal }) {
    const result = await this.inner.send(command, options);
    if (!(command instanceof SubscribeToShardCommand)) return result;
    this.subscriptions++;
    const stream = result.EventStream as AsyncIterable<unknown>;
    const limit = this.events;
    return {
      ...result,
      EventStream: {
        async *[Symbol.asyncIterator]() {
          let count = 0;
          for await (const event of stream) {
            yield event;
            if (++count >= limit) return;
          }
        },
      },
    };
  }
  destroy(): void {
    this.inner.destroy();
  }
}

describeWithBroker('kinesis-mock', 'kinesis enhanced fan-out (kinesis-mock)', (mock) => {
  runContractSuite({
    name: 'kinesis, enhanced fan-out',
    timeoutMs: 30_000,
    notApplicable: {
      'reports a deleted destination through sink.fatal':
        'kinesis-mock keeps a fan-out subscription to a deleted stream open and sending events, so no read fails; the reader sees the stream gone only when it subscribes again (a subscription lasts up to 5 minutes on Kinesis)',
    },
    async setup({ partitions }) {
      const { config, cleanup } = await freshStream(localConfig({ kinesis: mock }, efo(mock)), partitions);
      return { adapter: adapterFor(config), destination: config.stream, teardown: cleanup };
    },
  });

  it('resumes from the checkpoints written by a fan-out consumer', async () => {
    const { config, cleanup } = await freshStream(localConfig({ kinesis: mock }, efo(mock)), 2);
    const adapter = adapterFor(config);
    const publisher = adapter.createPublisher();
    try {
      await publisher.publish(
        config.stream,
        Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 8}`, payload: Buffer.from(JSON.stringify({ n: i })) })),
      );
      const first = adapter.createSource();
      const sink = new CollectingSink(50, true);
      await first.start(sink);
      await eventually(() => new Set(sink.events.map((event) => n(event.payload))).size === 200, 30_000, 'all 200 events');
      await first.close();

      const second = adapter.createSource();
      const again = new CollectingSink(50, true);
      await second.start(again);
      await publisher.publish(
        config.stream,
        Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 8}`, payload: Buffer.from(JSON.stringify({ n: 200 + i })) })),
      );
      await eventually(() => again.events.length >= 10, 30_000, 'the 10 new events');
      await sleep(1_000);
      expect(again.events.map((event) => n(event.payload)).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => 200 + i));
      await second.close();
    } finally {
      await publisher.close();
      await cleanup();
    }
  });

  it('subscribes again after a subscription ends, from the last event handed over', async () => {
    const { config, cleanup } = await freshStream(localConfig({ kinesis: mock }, efo(mock)), 1);
    let short: ShortSubscriptions | undefined;
    const adapter = adapterFor(config, {
      clients: (c) => {
        const clients = createClients(c);
        short = new ShortSubscriptions(clients.fanOut!, 1);
        return { ...clients, fanOut: short };
      },
    });
    const publisher = adapterFor(config).createPublisher();
    const source = adapter.createSource();
    try {
      const sink = new CollectingSink(50, true);
      await source.start(sink);
      for (let batch = 0; batch < 6; batch++) {
        await publisher.publish(
          config.stream,
          Array.from({ length: 20 }, (_, i) => ({ key: `k${i % 4}`, payload: Buffer.from(JSON.stringify({ n: batch * 20 + i })) })),
        );
        await sleep(700);
      }
      await eventually(() => sink.events.length >= 120, 60_000, 'all 120 events');
      await sleep(1_000);
      expect(short!.subscriptions).toBeGreaterThanOrEqual(2);
      const ns = sink.events.map((event) => n(event.payload));
      expect(ns).toHaveLength(120);
      expect(new Set(ns).size).toBe(120);
    } finally {
      await source.close();
      await publisher.close();
      await cleanup();
    }
  });
});
