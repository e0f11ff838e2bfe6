// Where the local brokers keep their state. Everything a run writes lives under the
// git-ignored `.sluice/brokers/` of this checkout; only the Kafka jars, which are the
// same for every checkout, go to a per-user cache so they are downloaded once per machine.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const deployDir = join(repoRoot, 'deploy', 'local');
export const stateDir = process.env.SLUICE_BROKERS_STATE_DIR ?? join(repoRoot, '.sluice', 'brokers');
export const logsDir = join(stateDir, 'logs');

/** Per-user download cache (Kafka jars). Override with SLUICE_CACHE_DIR. */
export const cacheDir = process.env.SLUICE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sluice');

export const pidFile = (name: string): string => join(stateDir, `${name}.pid`);
export const lockFile = (name: string): string => join(stateDir, `${name}.lock`);
export const logFile = (name: string): string => join(logsDir, `${name}.log`);
export const dataDir = (name: string): string => join(stateDir, name);
