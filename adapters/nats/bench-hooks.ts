/**
 * NATS's benchmark hooks (src/broker/tooling.ts, BenchHooks): the client alone, reading the
 * configured durable consumer with the same consume() buffer, acking each message at once.
 */
import { jetstream } from '@nats-io/jetstream';
import type { SourceEvent } from '../../src/broker/contract.ts';
import type { BareReadOptions, BenchHooks } from '../../src/broker/tooling.ts';
import { connectNats, ensureConsumer, ensureStream, manager } from './client.ts';
import type { NatsConfig } from './config.ts';
import { NatsEvent } from './nats-event.ts';

async function bareReader(config: NatsConfig, { onRead, onMessage }: BareReadOptions) {
  const nc = await connectNats(config, 'sluice-bare');
  const jsm = await manager(nc, config);
  await ensureStream(jsm, config);
  await ensureConsumer(jsm, config);
  const consumer = await jetstream(nc).consumers.get(config.stream, config.consumer);
  const messages = await consumer.consume({ max_messages: 1000 });
  const reading = (async () => {
    for await (const msg of messages) {
      onMessage?.({ id: `${config.stream}@${msg.seq}`, payload: Buffer.from(msg.data), timestamp: msg.info.timestampNanos / 1e6 });
      onRead(1);
      msg.ack();
    }
  })();
  return {
    description: 'consume() with max_messages 1000, ack per message',
    ended: new Promise<void>(() => undefined),
    stop: async () => {
      messages.stop();
      await reading.catch(() => undefined);
      await nc.drain().catch(() => nc.close());
    },
  };
}

export const benchHooks: BenchHooks = {
  bareReader,
  receivedAt: (event: SourceEvent) => (event instanceof NatsEvent ? event.receivedAt : undefined),
};
