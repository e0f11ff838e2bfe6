import pino from 'pino';
import {
  type AdapterUse,
  type CheckOptions,
  deadLetterDestinations,
  failed,
  passed,
  type ResourceCheck,
  timedCheck,
} from '../../src/broker/preflight.ts';
import { createKafka } from './client.ts';
import type { KafkaConfig } from './config.ts';
import { KafkaAdmin } from './kafka-admin.ts';
import { topicsToRead } from './topics-to-read.ts';

/**
 * `sluice config check --connect` for a Kafka section, through the admin client the adapter uses
 * for topics: the brokers answer; for a source, each topic exists (with its partition count) or
 * the pattern matches some, and the consumer group's state (informational: a group that does not
 * exist yet is created by the first member); for dead letters, each destination topic exists or
 * the producer may have it auto-created.
 *
 * The client gets no retries and the check's timeout as its connect and request timeouts, so an
 * unreachable broker fails in seconds with one line, and its logger is silent: kafkajs' own
 * chatter about each failed connection would only repeat the check's line.
 */
export async function* checkResources(config: KafkaConfig, use: AdapterUse, { timeoutMs }: CheckOptions): AsyncGenerator<ResourceCheck> {
  const quick: KafkaConfig = {
    ...config,
    startTimeoutMs: timeoutMs,
    connectionTimeoutMs: Math.min(config.connectionTimeoutMs, timeoutMs),
    requestTimeoutMs: Math.min(config.requestTimeoutMs, timeoutMs),
    retry: { ...config.retry, retries: 0 },
  };
  const admin = new KafkaAdmin(createKafka(quick, pino({ level: 'silent' }), 'check'), quick);
  try {
    const where = `kafka brokers ${config.brokers.join(',')}`;
    let topics = new Map<string, number>();
    let brokerId: number | null = null;
    const reach = await timedCheck(where, timeoutMs, async () => {
      const cluster = await admin.cluster();
      brokerId = cluster.firstBrokerId;
      topics = await admin.topicPartitions();
      return passed(where, `${cluster.brokers} broker(s) in cluster ${cluster.clusterId}, ${topics.size} topic(s)`);
    });
    yield reach;
    if (!reach.ok) return;
    if (use.role === 'source') {
      yield* sourceTopics(config, topics, use.deadLetterTopics);
      const what = `consumer group ${config.group}`;
      yield await timedCheck(what, timeoutMs, async () => {
        const { state, members } = await admin.groupState(config.group);
        return passed(what, state === 'Dead' ? 'not created yet (the first member creates it)' : `${state}, ${members} member(s)`);
      });
    } else {
      const missing = deadLetterDestinations(use).filter((topic) => !topics.has(topic));
      // Whether a missing topic would be created on the first dead letter: the brokers decide.
      const autoCreate =
        missing.length > 0 && config.producer.allowAutoTopicCreation && brokerId !== null
          ? await timedCheck('auto.create.topics.enable', timeoutMs, async () =>
              passed('auto.create.topics.enable', String(await admin.brokerSetting(brokerId!, 'auto.create.topics.enable'))),
            )
          : undefined;
      for (const topic of deadLetterDestinations(use)) {
        const what = `dead-letter topic ${topic}`;
        const partitions = topics.get(topic);
        if (partitions !== undefined) yield passed(what, `${partitions} partition(s)`);
        else if (!config.producer.allowAutoTopicCreation)
          yield failed(what, 'does not exist, and producer.allowAutoTopicCreation is false: create it');
        else if (autoCreate?.detail === 'false')
          yield failed(what, 'does not exist, and the brokers do not create topics (auto.create.topics.enable is false): create it');
        else if (autoCreate?.detail === 'true')
          yield passed(what, 'does not exist yet: created by the brokers on the first dead letter (auto.create.topics.enable is true)');
        else
          yield passed(
            what,
            'does not exist yet: the producer asks the brokers to create it on the first dead letter (needs auto.create.topics.enable, which could not be read)',
          );
      }
    }
  } finally {
    await admin.close();
  }
}

/** One line per configured topic, or one for the pattern; `sources` are the topics read. */
function* sourceTopics(
  config: KafkaConfig,
  existing: Map<string, number>,
  deadLetterTopics?: (topic: string) => boolean,
): Generator<ResourceCheck> {
  const count = (topic: string) => `${existing.get(topic)} partition(s)`;
  if (config.topicPattern) {
    const what = `topics matching /${config.topicPattern}/`;
    try {
      const topics = topicsToRead(config, [...existing.keys()], deadLetterTopics);
      yield { ...passed(what, topics.map((topic) => `${topic} (${count(topic)})`).join(', ')), sources: topics };
    } catch (error) {
      yield failed(what, error);
    }
    return;
  }
  for (const topic of config.topics ?? []) {
    const what = `topic ${topic}`;
    try {
      topicsToRead({ ...config, topics: [topic] }, [...existing.keys()]);
      yield { ...passed(what, count(topic)), sources: [topic] };
    } catch (error) {
      yield { ...failed(what, error), sources: [topic] };
    }
  }
}
