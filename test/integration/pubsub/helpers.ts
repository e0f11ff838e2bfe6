import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Message, PubSub } from '@google-cloud/pubsub';
import { validateConfig } from '../../../src/config/load.ts';
import type { SluiceConfig } from '../../../src/config/schema.ts';
import { pubsubConfigSchema, type PubSubConfig } from '../../../adapters/pubsub/config.ts';
import { createClient } from '../../../adapters/pubsub/client.ts';
import { PubSubAdapter } from '../../../adapters/pubsub/pubsub-adapter.ts';
import { describe } from 'vitest';
import { describeWithBroker, uniqueName, type PubSubEndpoint } from '../brokers.ts';

/**
 * The local implementations of the Pub/Sub API: `emulator` (gcloud's, broker `pubsub`) and
 * `pstest` (the Go client's fake as a gRPC server, broker `pstest`; deploy/local/pstest-dist.ts).
 * SLUICE_PUBSUB_IMPLS=emulator (or pstest) runs one of them.
 */
export type PubSubImplementation = 'emulator' | 'pstest';
export const PUBSUB_IMPLEMENTATIONS: PubSubImplementation[] = (process.env.SLUICE_PUBSUB_IMPLS ?? 'emulator,pstest')
  .split(',')
  .map((name) => name.trim())
  .filter((name): name is PubSubImplementation => name === 'emulator' || name === 'pstest');

/**
 * A Pub/Sub suite run once per implementation (as describeWithKafka runs one per client), so a
 * verdict on delivery semantics never rests on one fake. `body` gets that implementation's
 * endpoint; pubsubTestConfig points the adapter at it.
 */
export function describeWithPubSub(
  title: string,
  body: (endpoint: PubSubEndpoint, implementation: PubSubImplementation) => void,
  implementations = PUBSUB_IMPLEMENTATIONS,
): void {
  describe(title, () => {
    for (const implementation of implementations) {
      describeWithBroker(implementation === 'emulator' ? 'pubsub' : 'pstest', implementation, (endpoint) => body(endpoint, implementation));
    }
  });
}

/** Test logs: silent unless SLUICE_TEST_LOG=debug|info|warn is set. */
export const testLogger = (): Logger => pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });

/** A config for the endpoint's implementation reading a fresh topic through a fresh subscription. */
export function pubsubTestConfig(endpoint: PubSubEndpoint, overrides: Record<string, unknown> = {}): PubSubConfig {
  const topic = uniqueName('t');
  return pubsubConfigSchema.parse({
    endpoint: endpoint.emulatorHost,
    projectId: endpoint.projectId,
    topic,
    subscription: `${topic}-sub`,
    connectTimeoutMs: 10_000,
    closeTimeoutMs: 5_000,
    ...overrides,
  });
}

export function pubsubTestAdapter(config: PubSubConfig, registry = new Registry()): PubSubAdapter {
  return new PubSubAdapter(config, testLogger(), registry);
}

/** A plain client on the emulator, for what the tests check behind Sluice's back. */
export function rawClient(config: PubSubConfig): PubSub {
  return createClient(config);
}

/** Sluice's config (validated as the CLI would) for the emulator subscription of `pubsub`. */
export async function sluiceConfig(pubsub: PubSubConfig, overrides: Record<string, unknown> = {}): Promise<SluiceConfig> {
  return validateConfig({
    broker: { type: 'pubsub', pubsub: { ...pubsub } },
    metrics: { enabled: false },
    log: { level: 'silent', summaryIntervalMs: 0 },
    ...overrides,
  });
}

/** Creates a subscription on `topic` (for reading what Sluice or Pub/Sub wrote there). */
export async function subscribe(client: PubSub, topic: string): Promise<string> {
  const name = `${topic.slice(topic.lastIndexOf('/') + 1)}-reader-${Math.random().toString(36).slice(2, 8)}`;
  await client.topic(topic).createSubscription(name);
  return name;
}

/** Receives (and acks) messages of `subscription` until `count` arrived or `timeoutMs` passed. */
export async function receive(client: PubSub, subscription: string, count: number, timeoutMs: number): Promise<Message[]> {
  const messages: Message[] = [];
  const reader = client.subscription(subscription);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms: ${messages.length}/${count} messages on ${subscription}`)),
        timeoutMs,
      );
      reader.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      reader.on('message', (message: Message) => {
        messages.push(message);
        message.ack();
        if (messages.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    await reader.close();
  }
  return messages;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A counter's value on a registry (prom-client), 0 if absent. */
export async function metricValue(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const data = await metric.get();
  return data.values.reduce((sum, value) => sum + value.value, 0);
}
