import type { PubSub } from '@google-cloud/pubsub';
import {
  type AdapterUse,
  type CheckOptions,
  deadLetterDestinations,
  failed,
  passed,
  type ResourceCheck,
  timedCheck,
} from '../../src/broker/preflight.ts';
import { NotFoundError } from '../../src/errors.ts';
import { bounded, createClient, describeEndpoint, gaxTimeout, shortName } from './client.ts';
import { type PubSubConfig, replaySubscriptionOf } from './config.ts';
import { describeSubscription } from './resources.ts';

/**
 * `sluice config check --connect` for a Pub/Sub section, through the calls the source makes at
 * start (describeSubscription) and the client it builds: for a source, the subscription exists
 * (with its topic, ordering and ack deadline) and its topic still exists, or with
 * `createResources: true` both will be created at start; for dead letters, each destination topic
 * and its replay subscription (deadLetterReplaySubscription) exist, or will be created before the
 * first dead letter (`createResources`). A server that does not answer
 * stops the checks after one line.
 */
export async function* checkResources(config: PubSubConfig, use: AdapterUse, { timeoutMs }: CheckOptions): AsyncGenerator<ResourceCheck> {
  const quick: PubSubConfig = { ...config, connectTimeoutMs: timeoutMs };
  const client = createClient(quick);
  try {
    if (use.role === 'source') yield* checkSubscription(client, quick, timeoutMs);
    else {
      for (const topic of deadLetterDestinations(use)) {
        const check = await checkTopic(client, quick, topic, `dead-letter topic ${topic}`, 'created on the first dead letter', timeoutMs);
        yield check;
        if (check.unreachable) return;
        const replay = replaySubscriptionOf(quick, topic);
        if (replay !== undefined) yield await checkReplaySubscription(client, quick, topic, replay, timeoutMs);
      }
    }
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function* checkSubscription(client: PubSub, config: PubSubConfig, timeoutMs: number): AsyncGenerator<ResourceCheck> {
  const what = `pubsub subscription ${config.subscription} (${describeEndpoint(config)})`;
  let topic: string | undefined;
  const check = await timedCheck(what, timeoutMs, async () => {
    try {
      const info = await describeSubscription(client, config);
      topic = shortName(info.topic);
      const ordering = info.messageOrdering ? 'ordered' : 'unordered';
      return passed(what, `on topic ${topic}, ${ordering}, ack deadline ${info.ackDeadlineSeconds} s`);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      if (config.createResources) return passed(what, 'does not exist: created at start (createResources: true)');
      return failed(what, 'does not exist: create it, or set broker.pubsub.createResources: true (development)');
    }
  });
  yield { ...check, sources: [config.subscription] };
  if (check.unreachable) return;
  // An existing subscription reads from its own topic (Pub/Sub names a deleted one `_deleted-topic_`);
  // one Sluice creates is attached to `topic`.
  if (topic === '_deleted-topic_') yield failed(`pubsub topic of ${config.subscription}`, 'was deleted: the subscription receives nothing');
  else
    yield await checkTopic(client, config, topic ?? config.topic, `pubsub topic ${topic ?? config.topic}`, 'created at start', timeoutMs);
}

async function checkTopic(
  client: PubSub,
  config: PubSubConfig,
  topic: string,
  what: string,
  whenCreated: string,
  timeoutMs: number,
): Promise<ResourceCheck> {
  return timedCheck(what, timeoutMs, async () => {
    try {
      await bounded(`topic ${topic}`, timeoutMs, config, () => client.topic(topic).getMetadata(gaxTimeout(timeoutMs)));
      return passed(what, 'exists');
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      if (config.createResources) return passed(what, `does not exist: ${whenCreated} (createResources: true)`);
      return failed(what, 'does not exist: create it, or set broker.pubsub.createResources: true (development)');
    }
  });
}

/**
 * The subscription that keeps a dead-letter topic's messages for `sluice replay`: without it, dead
 * letters published before a replay starts cannot be replayed, so its absence fails the check
 * (unless Sluice creates it, or deadLetterReplaySubscription: false says none is wanted).
 */
async function checkReplaySubscription(
  client: PubSub,
  config: PubSubConfig,
  topic: string,
  name: string,
  timeoutMs: number,
): Promise<ResourceCheck> {
  const what = `replay subscription ${name}`;
  return timedCheck(what, timeoutMs, async () => {
    try {
      const info = await describeSubscription(client, { ...config, subscription: name });
      if (shortName(info.topic) !== topic)
        return failed(what, `is on topic ${shortName(info.topic)}, not on the dead-letter topic ${topic}`);
      return passed(what, `exists: dead letters are kept for sluice replay`);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      if (config.createResources)
        return passed(what, 'does not exist: created with the topic before the first dead letter (createResources: true)');
      return failed(
        what,
        `does not exist: dead letters would not be kept for sluice replay; create it on topic ${topic} (deploy/gcp/README.md), or set broker.pubsub.deadLetterReplaySubscription: false`,
      );
    }
  });
}
