import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { describe } from 'vitest';
import { kafkaConfigSchema, type KafkaConfig } from '../../../adapters/kafka/config.ts';
import { KafkaAdapter } from '../../../adapters/kafka/kafka-adapter.ts';
import { describeWithBroker, type KafkaEndpoint } from '../brokers.ts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

export type KafkaClient = KafkaConfig['client'];

/** The endpoint of a test, with the client its suite runs on (default kafkajs). */
export type KafkaTestEndpoint = KafkaEndpoint & { readonly client?: KafkaClient };

/**
 * Both Kafka clients, or those in SLUICE_KAFKA_CLIENTS (comma-separated) to run one of them.
 */
export const KAFKA_CLIENTS: KafkaClient[] = (process.env.SLUICE_KAFKA_CLIENTS ?? 'kafkajs,platformatic')
  .split(',')
  .map((name) => name.trim())
  .filter((name): name is KafkaClient => name === 'kafkajs' || name === 'platformatic');

/**
 * A Kafka suite run once per client: `body` gets an endpoint that carries the client, which
 * kafkaTestConfig / kafkaTestAdapter use unless an override names another.
 */
export function describeWithKafka(title: string, body: (endpoint: KafkaTestEndpoint) => void, clients = KAFKA_CLIENTS): void {
  describeWithBroker('kafka', title, (endpoint) => {
    for (const client of clients) describe(`${client}`, () => body({ ...endpoint, client }));
  });
}

/** Test logs: silent unless SLUICE_TEST_LOG=debug|info|warn is set. */
export const testLogger = (): Logger => pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });

/** A Kafka config for tests: short intervals so that commits and redeliveries happen quickly. */
export function kafkaTestConfig(endpoint: KafkaTestEndpoint, overrides: Record<string, unknown> = {}): KafkaConfig {
  return kafkaConfigSchema.parse({
    brokers: endpoint.brokers,
    client: endpoint.client ?? 'kafkajs',
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
  endpoint: KafkaTestEndpoint,
  overrides: Record<string, unknown> = {},
  registry = new Registry(),
): KafkaAdapter {
  return new KafkaAdapter(kafkaTestConfig(endpoint, overrides), testLogger(), registry);
}
