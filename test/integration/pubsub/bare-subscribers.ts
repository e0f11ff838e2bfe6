// What the bare-client tests (emulator-ordering.test.ts, emulator-dead-streams.test.ts) share: a
// raw client of the implementation, a scratch folder, bare-subscriber.mjs children, and the
// topics and subscriptions they made, all cleaned up after the suite.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CreateSubscriptionOptions, PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll } from 'vitest';
import type { PubSubConfig } from '../../../adapters/pubsub/config.ts';
import type { PubSubEndpoint } from '../brokers.ts';
import { pubsubTestConfig, rawClient } from './helpers.ts';

const SUBSCRIBER = fileURLToPath(new URL('./bare-subscriber.mjs', import.meta.url));

export interface BareSubscribers {
  /** Set by the suite's beforeAll. */
  readonly config: PubSubConfig;
  readonly client: PubSub;
  readonly dir: string;
  /** Makes topic `<config.topic>-<index>` and its subscription `<topic>-sub`; returns the topic's name. */
  topic(index: number, subscription: CreateSubscriptionOptions): Promise<string>;
  /** Starts a bare subscriber on `<topicName>-sub`, recording to `out` (bare-subscriber.mjs). */
  start(topicName: string, out: string, env?: Record<string, string>): ChildProcess;
}

/** Registers the suite's set-up and tear-down (call it in a describe body). */
export function bareSubscribers(endpoint: PubSubEndpoint, prefix: string): BareSubscribers {
  const children = new Set<ChildProcess>();
  const topics: string[] = [];
  let config: PubSubConfig | undefined;
  let client: PubSub | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
    config = pubsubTestConfig(endpoint);
    client = rawClient(config);
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
    for (const topic of topics) {
      await client
        ?.subscription(`${topic}-sub`)
        .delete()
        .catch(() => undefined);
      await client
        ?.topic(topic)
        .delete()
        .catch(() => undefined);
    }
    await client?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  return {
    get config() {
      return config!;
    },
    get client() {
      return client!;
    },
    get dir() {
      return dir!;
    },
    async topic(index, subscription) {
      const name = `${config!.topic}-${index}`;
      topics.push(name);
      const [topic] = await client!.createTopic(name);
      await topic.createSubscription(`${name}-sub`, subscription);
      return name;
    },
    start(topicName, out, env = {}) {
      const child = spawn(process.execPath, [SUBSCRIBER], {
        env: { ...process.env, OUT: out, ENDPOINT: endpoint.emulatorHost, PROJECT: endpoint.projectId, SUB: `${topicName}-sub`, ...env },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.add(child);
      return child;
    },
  };
}
