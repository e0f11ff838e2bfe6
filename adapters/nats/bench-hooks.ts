/**
 * NATS's benchmark hooks (src/broker/tooling.ts): the client alone on the configured durable
 * consumer, the same consume() loop, acking each message at once.
 */
import { jetstream } from '@nats-io/jetstream';
import type { BareReadOptions, BenchHooks } from '../../src/broker/tooling.ts';
import { connectNats, ensureConsumer, ensureStream, manager } from './client.ts';
import type { NatsConfig } from './config.ts';

async function bareReader(config: NatsConfig, { onRead, onMessage }: BareReadOptions) {
  const nc = await connectNats(config, 'sluice-bare');
  const jsm = await manager(nc, config);
  await ensureStream(jsm, config);
  await ensureConsumer(jsm, config);
  const messages = await (await jetstream(nc).consumers.get(config.stream, config.consumer)).consume({ max_messages: 1000 });
  const reading = (async () => {
    for await (const msg of messages) {
      onMessage?.({ id: `${config.stream}@${msg.seq}`, payload: Buffer.from(msg.data), timestamp: msg.info.timestampNanos / 1e6 });
      onRead(1);
      msg.ack();
    }
  })();
  const stop = async () => {
    messages.stop();
    await reading.catch(() => undefined);
    await nc.drain().catch(() => nc.close());
  };
  return { description: 'consume() max_messages 1000, ack per message', ended: new Promise<void>(() => undefined), stop };
}

export const benchHooks: BenchHooks = { bareReader };
