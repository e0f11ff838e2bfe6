// Creating a topic on the local KRaft broker: kafkajs' `createTopics({ waitForLeaders: true })`
// sometimes fails with UNKNOWN_TOPIC_OR_PARTITION ("This server does not host this
// topic-partition") right after the create succeeded, because the new topic's metadata has not
// reached the broker's metadata cache yet. The harness must not lose a row to that: it creates
// the topic, then polls its metadata until every partition has a leader.
import type { Admin } from 'kafkajs';

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
