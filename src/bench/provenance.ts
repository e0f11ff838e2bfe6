/**
 * What a benchmark result needs to stand on its own, months later: which Sluice (version, git
 * commit), on what machine, with which configuration. Recorded in the JSON (`--out`) and the
 * HTML (`--report`) of `bench` and `tune`. Nothing here may fail a benchmark: a missing git, a
 * source tree without .git or a slow disk give `unknown`.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, release, totalmem, type } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sluiceVersion } from '../util/runtime.ts';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGB: number;
  node: string;
  /** `Linux 6.8.0 (x64)`. */
  os: string;
  note: string;
}

export function machine(): Machine {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${type()} ${release()} (${process.arch})`,
    note: 'all brokers local on this machine; emulators (kinesalite, the Pub/Sub emulator) are not the cloud services: figures compare the gateway paths, not the clouds',
  };
}

/** Runs git in Sluice's own directory; undefined on any failure or after 2 s. */
function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: dirname(fileURLToPath(import.meta.url)),
      encoding: 'utf8',
      timeout: 2_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The short commit of the Sluice that ran, `+dirty` when tracked files were changed (the figures
 * are then not of that commit alone), or `unknown` (an installed package, no git).
 */
export function gitCommit(): string {
  const commit = git(['rev-parse', '--short', 'HEAD']);
  if (!commit) return 'unknown';
  const changes = git(['status', '--porcelain', '--untracked-files=no']);
  return changes ? `${commit}+dirty` : commit;
}

export interface Provenance {
  version: string;
  commit: string;
  machine: Machine;
}

export function provenance(): Provenance {
  return { version: sluiceVersion(), commit: gitCommit(), machine: machine() };
}

/**
 * Keys whose values are credentials (Kinesis' static `secretAccessKey`, `sessionToken`; any
 * `password`, `token`, `secret`): masked in reports, which get shared. `passwordEnv` names a
 * variable, not a secret, and stays.
 */
const SECRET_KEY = /(secret|token|password|credential)s?$|^accessKeyId$/i;

export function redactSecrets<T>(value: T): T {
  if (Array.isArray(value)) return value.map(redactSecrets) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key,
      SECRET_KEY.test(key) && (typeof v === 'string' || typeof v === 'object') ? '***' : redactSecrets(v),
    ]),
  ) as T;
}
