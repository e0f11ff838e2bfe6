import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { PubSub } from '@google-cloud/pubsub';
import { pubsubConfigSchema, type PubSubConfig } from '../../../adapters/pubsub/config.ts';
import { createClient } from '../../../adapters/pubsub/client.ts';
import { PubSubAdapter } from '../../../adapters/pubsub/pubsub-adapter.ts';
import { uniqueName, type PubSubEndpoint } from '../brokers.ts';

/** Test logs: silent unless SLUICE_TEST_LOG=debug|info|warn is set. */
export const testLogger = (): Logger => pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });

/** A config for the emulator reading a fresh topic through a fresh subscription. */
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
