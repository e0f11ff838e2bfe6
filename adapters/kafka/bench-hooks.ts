/**
 * Kafka's benchmark hooks (src/broker/tooling.ts, BenchHooks), for `npm run bench:kafka`: each
 * client library alone, reading a backlog and only counting. No commits, no queue, nothing kept:
 * the least a consumer of that library can cost, so that Sluice on the same library is measured
 * against it.
 */
import { Consumer, type MessagesStream } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import type { BareReader, BareReadOptions, BenchHooks } from '../../src/broker/tooling.ts';
import type { KafkaConfig } from './config.ts';

/** kafkajs with a no-op eachBatch that only counts (auto-resolve on, commits off). */
async function bareKafkajs(cfg: KafkaConfig, options: BareReadOptions): Promise<BareReader> {
  const kafka = new Kafka({ clientId: 'sluice-bench-bare', brokers: cfg.brokers, logLevel: logLevel.WARN });
  const consumer = kafka.consumer({
    groupId: cfg.group,
    minBytes: cfg.fetch.minBytes,
    maxBytes: cfg.fetch.maxBytes,
    maxBytesPerPartition: cfg.fetch.maxBytesPerPartition,
    maxWaitTimeInMs: cfg.fetch.maxWaitTimeMs,
  });
  const { onRead, onMessage } = options;
  await consumer.connect();
  await consumer.subscribe({ topics: topicsOf(cfg), fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (onMessage) {
        for (const message of batch.messages)
          onMessage({
            id: `${batch.partition}-${message.offset}`,
            payload: message.value ?? Buffer.alloc(0),
            timestamp: Number(message.timestamp),
          });
      }
      onRead(batch.messages.length);
    },
  });
  return { description: 'kafkajs eachBatch, autoCommit off', ended: new Promise(() => undefined), stop: () => consumer.disconnect() };
}

/**
 * @platformatic/kafka's consume() stream in flowing mode, a `data` listener that only counts,
 * autocommit off; the same fetch sizes, wait and isolation level as Sluice's platformatic source,
 * the library's default stream buffer (highWaterMark 1,024 records).
 */
async function barePlatformatic(cfg: KafkaConfig, options: BareReadOptions): Promise<BareReader> {
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    clientId: 'sluice-bench-bare',
    bootstrapBrokers: cfg.brokers,
    groupId: cfg.group,
    autocommit: false,
    sessionTimeout: cfg.sessionTimeoutMs,
    heartbeatInterval: cfg.heartbeatIntervalMs,
    rebalanceTimeout: cfg.rebalanceTimeoutMs,
    minBytes: cfg.fetch.minBytes,
    maxBytes: cfg.fetch.maxBytes,
    maxBytesPerPartition: cfg.fetch.maxBytesPerPartition,
    maxWaitTime: cfg.fetch.maxWaitTimeMs,
    isolationLevel: cfg.isolationLevel === 'read_committed' ? 1 : 0,
  });
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  const stop = async () => {
    await stream?.close().catch(() => undefined);
    await consumer.close(true);
  };
  try {
    stream = await consumer.consume({ topics: topicsOf(cfg), mode: 'committed', fallbackMode: 'earliest', autocommit: false });
  } catch (error) {
    await stop();
    throw error;
  }
  const { onRead, onMessage } = options;
  if (onMessage) {
    stream.on('data', (message) => {
      onMessage({ id: `${message.partition}-${message.offset}`, payload: message.value, timestamp: Number(message.timestamp) });
      onRead(1);
    });
  } else {
    stream.on('data', () => onRead(1));
  }
  return { description: 'platformatic consume() stream, autocommit off', ended: new Promise(() => undefined), stop };
}

function topicsOf(cfg: KafkaConfig): string[] {
  if (!cfg.topics) throw new Error('bench: the bare Kafka reader needs broker.kafka.topics (not topicPattern)');
  return cfg.topics;
}

export const benchHooks: BenchHooks = {
  /** The library `config.client` names. */
  bareReader: (config: KafkaConfig, options) => (config.client === 'platformatic' ? barePlatformatic : bareKafkajs)(config, options),
};
