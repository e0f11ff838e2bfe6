import type { AdapterDeps } from '../../src/broker/adapter-deps.ts';
import type { ToolingAdapter } from '../../src/broker/tooling.ts';
import { ConfigError } from '../../src/errors.ts';
import { collectConfigErrors, type AdapterUse } from '../../src/broker/preflight.ts';
import { BearerAuth } from './auth.ts';
import type { HttpConfig } from './config.ts';
import { HttpAdapter } from './http-adapter.ts';
import { tlsOptions } from './tls-options.ts';

export function createAdapter(config: HttpConfig, deps: AdapterDeps): ToolingAdapter {
  return new HttpAdapter(config, deps.logger, deps.registry);
}

/** An HTTP source has one stream: nothing to retarget. */
export function retarget(config: HttpConfig): HttpConfig {
  return config;
}

/**
 * `sluice config check`: the token sources and TLS files, as start reads them; and dead letters
 * that would be POSTed back into this very server (a failing event would come back forever).
 */
export function preflight(config: HttpConfig, use: AdapterUse, env: NodeJS.ProcessEnv): Promise<ConfigError[]> {
  return collectConfigErrors([
    () => BearerAuth.fromConfig(config.auth, env),
    () => tlsOptions(config.tls),
    () => {
      if (use.role === 'deadLetter' && config.publishUrl === undefined) {
        throw new ConfigError(
          'deadLetter.broker',
          'the http adapter would post dead letters back into this server: use deadLetter.type file, another broker, or set broker.http.publishUrl',
        );
      }
    },
  ]);
}
