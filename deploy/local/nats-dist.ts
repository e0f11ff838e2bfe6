// nats-server (NATS with JetStream) for the local stack, built from its Go module
// (`go install github.com/nats-io/nats-server/v2@<version>`: the Go module proxy is reachable
// where release downloads may not be) once per machine into ~/.cache/sluice/nats-server-<version>/,
// as toxiproxy is. A fresh machine (CI) builds it on first use: minutes, cold.
//
//   npm run nats:build      # build (or reuse) and print where and how long
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PrerequisiteMissing } from './kafka-dist.ts';
import { cacheDir } from './paths.ts';

/** Pinned: the version the adapter is tested against (adapters/nats/README.md). */
export const NATS_SERVER_VERSION = process.env.SLUICE_NATS_SERVER_VERSION ?? '2.15.2';
const MODULE = 'github.com/nats-io/nats-server/v2';

/**
 * The nats-server binary, built with `go install` into the cache unless already there.
 * Concurrent builds are safe: each builds into a folder of its own and renames into place.
 * Asynchronous: `brokers:up` keeps probing the other brokers meanwhile.
 */
export async function natsServer(log: (msg: string) => void = () => undefined): Promise<{ binary: string; builtMs?: number }> {
  const dir = join(cacheDir, `nats-server-${NATS_SERVER_VERSION}`);
  const binary = join(dir, 'nats-server');
  if (existsSync(binary)) return { binary };
  const go = existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
  const staging = join(dir, `.build-${process.pid}`);
  mkdirSync(staging, { recursive: true });
  log(`nats-server: building ${MODULE}@v${NATS_SERVER_VERSION} with go install (once per machine)`);
  const started = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(go, ['install', `${MODULE}@v${NATS_SERVER_VERSION}`], {
        env: { ...process.env, GOBIN: staging, GOFLAGS: '-buildvcs=false' },
        stdio: ['ignore', 'inherit', 'inherit'],
        timeout: 25 * 60_000,
        killSignal: 'SIGKILL',
      });
      child.on('error', reject);
      child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new Error(`go install exited ${code ?? signal}`))));
    });
    renameSync(join(staging, 'nats-server'), binary);
  } catch (error) {
    throw new PrerequisiteMissing(`could not build nats-server v${NATS_SERVER_VERSION} with ${go} (Go 1.25+ needed): ${String(error)}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const builtMs = Date.now() - started;
  log(`nats-server: built in ${(builtMs / 1000).toFixed(1)} s: ${binary}`);
  return { binary, builtMs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = Date.now();
  const { binary, builtMs } = await natsServer((msg) => console.error(`[nats] ${msg}`));
  console.log(
    builtMs === undefined
      ? `nats-server ${NATS_SERVER_VERSION}: cached ${binary} (${Date.now() - t0} ms)`
      : `nats-server ${NATS_SERVER_VERSION}: built ${binary} in ${(builtMs / 1000).toFixed(1)} s`,
  );
}
