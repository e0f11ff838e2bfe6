import pino from 'pino';
import { Registry } from 'prom-client';
import { type NatsConfig, natsConfigSchema } from '../../../adapters/nats/config.ts';
import { NatsAdapter } from '../../../adapters/nats/nats-adapter.ts';
import { describeWithBroker, type EndpointOf, uniqueName } from '../brokers.ts';

export type NatsEndpoint = EndpointOf<'nats'>;

/** The nats-server of the local stack (npm run brokers:up, SLUICE_BROKERS=nats). */
export const describeWithNats = (title: string, body: (endpoint: NatsEndpoint) => void): void => describeWithBroker('nats', title, body);

/**
 * A config reading a fresh stream (subject = stream name) through a fresh durable consumer,
 * created at start. Short ack wait: a test that kills a reader waits it out.
 */
export function natsTestConfig(endpoint: NatsEndpoint, overrides: Record<string, unknown> = {}): NatsConfig {
  const stream = uniqueName('nats').replace(/[^A-Za-z0-9_-]/g, '_');
  return natsConfigSchema.parse({
    servers: endpoint.servers,
    stream,
    consumer: `${stream}-c`,
    createResources: true,
    ackWaitMs: 5_000,
    nackDelayMs: 100,
    connectTimeoutMs: 5_000,
    ...overrides,
  });
}

export const natsTestAdapter = (config: NatsConfig): NatsAdapter =>
  new NatsAdapter(config, pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' }), new Registry());
