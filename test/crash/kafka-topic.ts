// Creating a topic on the local KRaft broker: kafkajs' `createTopics({ waitForLeaders: true })`
// sometimes fails with UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this
// topic-partition") right after the create succeeded, because the new topic's metadata has not
// reached the broker's metadata cache yet. The harness must not lose a row to that: it creates
// the topic, then polls its metadata until every partition has a leader.
import type { Admin, Kafka } from 'kafkajs';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates `topic` with `partitions` partitions and resolves once every partition has a leader. */
export async function createTopicWithLeaders(admin: Admin, topic: string, partitions: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: false });
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const found = topics.find((t) => t.name === topic);
      if (found && found.partitions.length === partitions && found.partitions.every((p) => p.leader >= 0)) return;
    } catch (error) {
      last = error; // UNKNOWN_TOPIC_OR_PARTITION while the metadata propagates
    }
    await sleep(200);
  }
  throw new Error(`kafka topic ${topic}: no leader for every partition after ${timeoutMs} ms (${String(last ?? 'metadata incomplete')})`);
}

/**
 * Writes events 0..events-1 (value `{"n":…}`, key `<keyPrefix><n % keys>`) to `topic` with an
 * idempotent producer, in sends of 2,000, then checks that the topic holds exactly `events`
 * records. A plain producer retries a send whose answer timed out and may write it twice: on a
 * loaded machine that put 1,095 extra records into an outage row's topic, which the row then
 * counted as Sluice's duplicates (every record had been processed once, by offset).
 */
export async function produceNumbered(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  events: number,
  keys: number,
  keyPrefix: string,
): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let from = 0; from < events; from += 2_000) {
      const messages = [];
      for (let n = from; n < Math.min(events, from + 2_000); n++)
        messages.push({ key: `${keyPrefix}${n % keys}`, value: JSON.stringify({ n }) });
      await producer.send({ topic, messages, acks: -1 });
    }
  } finally {
    await producer.disconnect();
  }
  const held = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  if (held !== events) throw new Error(`kafka topic ${topic}: the harness produced ${events} events but the topic holds ${held} records`);
}
