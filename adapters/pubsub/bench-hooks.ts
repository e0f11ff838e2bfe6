/**
 * Pub/Sub's benchmark hooks (src/broker/tooling.ts, BenchHooks), for `npm run bench:pubsub`: the
 * client library alone, with the flow control Sluice's source would derive from the same queue,
 * a message handler that counts and acks at once.
 */
import type { Message } from '@google-cloud/pubsub';
import type { SourceEvent } from '../../src/broker/contract.ts';
import type { BareReadOptions, BenchHooks } from '../../src/broker/tooling.ts';
import { maxBatchFor } from '../../src/core/pipeline.ts';
import { createClient } from './client.ts';
import type { PubSubConfig } from './config.ts';
import { PubSubEvent } from './pubsub-event.ts';
import { flowControlFor } from './flow-lease.ts';

async function bareReader(cfg: PubSubConfig, options: BareReadOptions) {
  const client = createClient(cfg);
  const { queue, onRead, onMessage } = options;
  const flow = flowControlFor(cfg, {
    maxBatch: maxBatchFor(queue.maxEvents),
    capacity: { events: queue.maxEvents, bytes: queue.maxBytes },
  });
  const subscription = client.subscription(cfg.subscription, {
    flowControl: { ...flow, allowExcessMessages: false },
    streamingOptions: { maxStreams: cfg.streams },
  });
  subscription.on('error', (error) => process.stderr.write(`bare client: ${error.message}\n`));
  subscription.on('message', (message: Message) => {
    onMessage?.({ id: message.id, payload: message.data, timestamp: message.publishTime.getTime() });
    onRead(1);
    message.ack();
  });
  return {
    description: `flow control ${flow.maxMessages} messages / ${(flow.maxBytes / 1048576).toFixed(1)} MiB, ${cfg.streams} stream(s)`,
    ended: new Promise<void>(() => undefined),
    stop: async () => {
      await subscription.close();
      await client.close();
    },
  };
}

export const benchHooks: BenchHooks = {
  bareReader,
  /** When the client library received the message (ms resolution). */
  receivedAt: (event: SourceEvent) => (event instanceof PubSubEvent ? event.message.received : undefined),
};
