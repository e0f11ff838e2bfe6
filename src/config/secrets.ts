import { readFileSync } from 'node:fs';
import { ConfigError, errorMessage } from '../errors.ts';

/**
 * What an adapter's connection settings name outside the config file: a file (a CA, a client
 * certificate, a credentials file) and an environment variable holding a secret (a password, a
 * token, from a Kubernetes Secret). Both are read at start and by `sluice config check` through
 * these, so that a missing one stops start-up with a ConfigError naming the key that names it.
 */
export function readConfiguredFile(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(key, `cannot read ${path}: ${errorMessage(error)}`);
  }
}

/** The value of environment variable `name`, which config key `key` names; unset or empty is a ConfigError. */
export function secretFromEnv(env: NodeJS.ProcessEnv, name: string, key: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(key, `environment variable ${name} is not set`);
  return value;
}
