import { type AdapterUse, collectConfigErrors } from '../../src/broker/preflight.ts';
import { ConfigError } from '../../src/errors.ts';
import { connectionOptions } from './client.ts';
import { groupInstanceId, type KafkaConfig } from './config.ts';

/**
 * What a Kafka section needs at start-up beyond its schema, found without connecting. The source
 * and the adapter call the same functions when they start (requireTopics in the source's
 * constructor, connectionOptions when the adapter is created, groupInstanceId when a
 * platformatic source joins), so `config check` reports exactly what `run` would fail on.
 */
export async function preflight(config: KafkaConfig, use: AdapterUse, env: NodeJS.ProcessEnv): Promise<ConfigError[]> {
  return collectConfigErrors([
    ...(use.role === 'source' ? [() => requireTopics(config), () => groupInstanceId(config, env)] : []),
    // TLS files readable, the SASL password and key passphrase variables set.
    () => connectionOptions(config, env),
  ]);
}

/** A source reads `topics` or `topicPattern`; a section that only publishes dead letters needs neither. */
export function requireTopics(config: Pick<KafkaConfig, 'topics' | 'topicPattern'>): void {
  if (!config.topics && !config.topicPattern) {
    throw new ConfigError('broker.kafka.topics', 'a Kafka source needs `topics` (a list) or `topicPattern` (a regular expression)');
  }
}
