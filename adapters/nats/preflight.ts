import { type AdapterUse, collectConfigErrors } from '../../src/broker/preflight.ts';
import type { ConfigError } from '../../src/errors.ts';
import { credentialsOf, credsFileOf, tlsOf } from './client.ts';
import type { NatsConfig } from './config.ts';

/**
 * What a NATS section needs at start-up beyond its schema, found without connecting: its TLS and
 * credentials files readable, its `passEnv` / `tokenEnv` variables set. connectNats reads them
 * through the same functions, so `config check` reports what `run` would fail on.
 */
export async function preflight(config: NatsConfig, _use: AdapterUse, env: NodeJS.ProcessEnv): Promise<ConfigError[]> {
  return collectConfigErrors([() => credentialsOf(config, env), () => credsFileOf(config), () => tlsOf(config)]);
}
