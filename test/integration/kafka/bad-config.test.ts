// What a user sees when the Kafka settings are wrong: start() fails within a bounded time with a
// typed error that names the brokers, the key or the topic; config mistakes are caught before.
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { groupInstanceId } from '../../../adapters/kafka/config.ts';
import { KafkaAdapter } from '../../../adapters/kafka/kafka-adapter.ts';
import { Sluice } from '../../../src/app.ts';
import { validateConfig } from '../../../src/config/load.ts';
import { AuthenticationError, ConfigError, ConnectionError, NotFoundError } from '../../../src/errors.ts';
import { CollectingSink } from '../../contract/universal-suite.ts';
import { uniqueName } from '../brokers.ts';
import { describeWithKafka, kafkaTestAdapter, kafkaTestConfig, testLogger } from './helpers.ts';

const PASSWORD_ENV = 'SLUICE_TEST_KAFKA_PASSWORD';

describeWithKafka('kafka misconfiguration', (endpoint) => {
  afterAll(() => {
    delete process.env[PASSWORD_ENV];
  });

  it('rejects start() with a ConnectionError naming an unreachable broker (default retries)', async () => {
    const adapter = new KafkaAdapter(
      kafkaTestConfig(endpoint, { brokers: ['127.0.0.1:1'], topics: ['anything'], retry: {} }),
      testLogger(),
      new Registry(),
    );
    const source = adapter.createSource();
    const error = await source.start(new CollectingSink()).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toContain('127.0.0.1:1');
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(source.health().connected).toBe(false);
    await source.close();
  });

  it('rejects start() with an AuthenticationError when SASL is refused (the local listener is PLAINTEXT)', async () => {
    process.env[PASSWORD_ENV] = 'not-the-password';
    const adapter = kafkaTestAdapter(endpoint, {
      topics: ['anything'],
      sasl: { mechanism: 'scram-sha-256', username: 'sluice', passwordEnv: PASSWORD_ENV },
    });
    const source = adapter.createSource();
    const error = await source.start(new CollectingSink()).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    const message = (error as Error).message;
    expect(message).toContain(endpoint.brokers[0]);
    expect(message).toContain('SASL scram-sha-256 as sluice');
    expect(message).not.toContain('not-the-password');
    await source.close();
  });

  it('names the environment variable when the SASL password is not set', () => {
    delete process.env[PASSWORD_ENV];
    let error: unknown;
    try {
      kafkaTestAdapter(endpoint, { topics: ['t'], sasl: { mechanism: 'plain', username: 'u', passwordEnv: PASSWORD_ENV } });
    } catch (failure) {
      error = failure;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).key).toBe('broker.kafka.sasl.passwordEnv');
    expect((error as ConfigError).message).toContain(PASSWORD_ENV);
  });

  it('rejects start() with a NotFoundError naming a missing topic, and the app does not start', async () => {
    const topic = uniqueName('missing');
    const config = await validateConfig({
      broker: { type: 'kafka', kafka: { brokers: endpoint.brokers, client: endpoint.client, topics: [topic], startTimeoutMs: 20_000 } },
      metrics: { enabled: false },
      log: { level: 'silent' },
    });
    const sluice = await Sluice.create(config, testLogger(), { registry: new Registry() });
    const error = await sluice.start().then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain(topic);
    expect(sluice.pipeline.state).toBe('stopped');
  });

  it('rejects a publisher connect with a ConnectionError naming the broker', async () => {
    const adapter = kafkaTestAdapter(endpoint, { brokers: ['127.0.0.1:1'], retry: { retries: 1 } });
    const publisher = adapter.createPublisher();
    await expect(publisher.connect()).rejects.toThrow(ConnectionError);
    await expect(publisher.connect()).rejects.toThrow(/127\.0\.0\.1:1/);
    await publisher.close();
  });
});

describe('kafka config validation', () => {
  async function configError(kafka: Record<string, unknown>): Promise<ConfigError> {
    const error = await validateConfig({ broker: { type: 'kafka', kafka } }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }

  it('names the key of each mistake', async () => {
    expect((await configError({ topics: ['t'], brokers: ['localhost'] })).key).toBe('broker.kafka.brokers.0');
    expect((await configError({ topics: ['t'], heartbeatIntervalMs: 30_000 })).key).toBe('broker.kafka.heartbeatIntervalMs');
    expect((await configError({ topics: ['t'], revokeTimeoutMs: 90_000 })).key).toBe('broker.kafka.revokeTimeoutMs');
    expect((await configError({ topics: ['t'], topicPattern: '^t' })).key).toBe('broker.kafka.topicPattern');
    expect((await configError({ topicPattern: '(' })).key).toBe('broker.kafka.topicPattern');
    expect((await configError({ topics: ['t'], producer: { acks: 'leader' } })).key).toBe('broker.kafka.producer.acks');
    expect((await configError({ topics: ['t'], sasl: { mechanism: 'gssapi', username: 'u', passwordEnv: 'P' } })).key).toBe(
      'broker.kafka.sasl.mechanism',
    );
    expect((await configError({ topics: ['t'], sasl: { mechanism: 'plain', username: 'u', password: 'secret' } })).key).toBe(
      'broker.kafka.sasl.password',
    );
    expect((await configError({ topics: ['t'], tpoics: ['t'] })).key).toBe('broker.kafka.tpoics');
    expect((await configError({ topics: ['t'], client: 'rdkafka' })).key).toBe('broker.kafka.client');
    // kafkajs has neither static membership nor the KIP-848 protocol.
    expect((await configError({ topics: ['t'], groupProtocol: 'consumer' })).key).toBe('broker.kafka.groupProtocol');
    expect((await configError({ topics: ['t'], groupInstanceId: 'pod-0' })).key).toBe('broker.kafka.groupInstanceId');
    expect((await configError({ topics: ['t'], staticMembership: true })).key).toBe('broker.kafka.staticMembership');
    expect((await configError({ topics: ['t'], client: 'platformatic', groupInstanceId: 'a', staticMembership: true })).key).toBe(
      'broker.kafka.staticMembership',
    );
    // Only a static member can stay in the group on close.
    expect((await configError({ topics: ['t'], leaveGroupOnClose: false })).key).toBe('broker.kafka.leaveGroupOnClose');
    expect((await configError({ topics: ['t'], client: 'platformatic', leaveGroupOnClose: false })).key).toBe(
      'broker.kafka.leaveGroupOnClose',
    );
  });

  it('accepts brokers as a comma-separated string (environment overrides) and fills defaults', async () => {
    const config = await validateConfig({ broker: { type: 'kafka', kafka: { brokers: 'a:9092, b:9093', topics: ['t'] } } });
    const kafka = config.broker.kafka as { brokers: string[]; group: string; startFrom: string; producer: { idempotent: boolean } };
    expect(kafka.brokers).toEqual(['a:9092', 'b:9093']);
    expect(kafka.group).toBe('sluice');
    expect(kafka.startFrom).toBe('earliest');
    expect(kafka.producer.idempotent).toBe(true);
  });

  it('takes the static member id from groupInstanceId, else SLUICE_INSTANCE_ID, POD_NAME, HOSTNAME', () => {
    const config = { groupInstanceId: undefined, staticMembership: true };
    expect(groupInstanceId({ groupInstanceId: 'fixed', staticMembership: false }, { HOSTNAME: 'h' })).toBe('fixed');
    expect(groupInstanceId({ ...config, staticMembership: false }, { HOSTNAME: 'h' })).toBeUndefined();
    expect(groupInstanceId(config, { SLUICE_INSTANCE_ID: 'i', POD_NAME: 'p', HOSTNAME: 'h' })).toBe('i');
    expect(groupInstanceId(config, { POD_NAME: 'p', HOSTNAME: 'h' })).toBe('p');
    expect(groupInstanceId(config, { HOSTNAME: 'h' })).toBe('h');
    expect(() => groupInstanceId(config, {})).toThrow(/broker\.kafka\.staticMembership/);
  });

  it('asks a source for topics or a pattern, naming the key', () => {
    const adapter = new KafkaAdapter(kafkaTestConfig({ brokers: ['127.0.0.1:9092'] } as never), testLogger(), new Registry());
    expect(() => adapter.createSource()).toThrow(ConfigError);
    expect(() => adapter.createSource()).toThrow(/broker\.kafka\.topics/);
  });
});
