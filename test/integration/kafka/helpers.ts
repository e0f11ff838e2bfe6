import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { kafkaConfigSchema, type KafkaConfig } from '../../../adapters/kafka/config.ts';
import { KafkaAdapter } from '../../../adapters/kafka/kafka-adapter.ts';
import type { KafkaEndpoint } from '../brokers.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/** Test logs: silent unless SLUICE_TEST_LOG=debug|info|warn is set. */
export const testLogger = (): Logger => pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });

/** A Kafka config for tests: short intervals so that commits and redeliveries happen quickly. */
export function kafkaTestConfig(endpoint: KafkaEndpoint, overrides: Record<string, unknown> = {}): KafkaConfig {
  return kafkaConfigSchema.parse({
    brokers: endpoint.brokers,
    clientId: 'sluice-test',
    commitIntervalMs: 100,
    nackDelayMs: 50,
    heartbeatIntervalMs: 1_000,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 20_000,
    revokeTimeoutMs: 5_000,
    startTimeoutMs: 30_000,
    fetch: { maxWaitTimeMs: 100 },
    ...overrides,
  });
}

export function kafkaTestAdapter(
  endpoint: KafkaEndpoint,
  overrides: Record<string, unknown> = {},
  registry = new Registry(),
): KafkaAdapter {
  return new KafkaAdapter(kafkaTestConfig(endpoint, overrides), testLogger(), registry);
}
