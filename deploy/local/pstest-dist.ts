// pstest, the Go client's in-memory fake of the Pub/Sub API (cloud.google.com/go/pubsub/v2/pstest),
// wrapped as a gRPC server by deploy/local/pstest/main.go: a second implementation of the API
// next to the gcloud emulator, so the verdict on ordered delivery after a crash (issue #12) does
// not rest on one fake. Built with Go from the module proxy (go.mod and go.sum pin every module)
// once per machine into ~/.cache/sluice/pstest-<version>/, keyed by a hash of the sources, so a
// changed main.go or go.sum builds again and an unchanged one is reused.
//
//   npx tsx deploy/local/pstest-dist.ts      # build (or reuse) and print where and how long
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PrerequisiteMissing } from './kafka-dist.ts';
import { cacheDir, deployDir, logsDir } from './paths.ts';

export const pstestSourceDir = join(deployDir, 'pstest');
const SOURCES = ['go.mod', 'go.sum', 'main.go'];

/** The pstest module version, as go.mod pins it (one place to change it). */
export function pstestVersion(): string {
  const goMod = readFileSync(join(pstestSourceDir, 'go.mod'), 'utf8');
  const version = /^\s*(?:require\s+)?cloud\.google\.com\/go\/pubsub\/v2\s+(v\S+)/m.exec(goMod)?.[1];
  if (!version) throw new Error(`${join(pstestSourceDir, 'go.mod')} does not require cloud.google.com/go/pubsub/v2`);
  return version;
}

/** The cached binary for the current sources: <cache>/pstest-<version>/pstest-server-<hash>. */
export function pstestBinary(): string {
  const hash = createHash('sha256');
  for (const file of SOURCES) hash.update(readFileSync(join(pstestSourceDir, file)));
  return join(cacheDir, `pstest-${pstestVersion()}`, `pstest-server-${hash.digest('hex').slice(0, 12)}`);
}

/** `go`: on PATH, else the usual install location; a clear error when there is none. */
function goCommand(): string {
  for (const candidate of ['go', '/usr/local/go/bin/go']) {
    const out = spawnSync(candidate, ['version'], { encoding: 'utf8' });
    if (!out.error && out.status === 0) return candidate;
  }
  throw new PrerequisiteMissing(
    '`go` (1.25+) is not on PATH nor in /usr/local/go/bin: it builds the pstest server once per machine (deploy/local/pstest)',
  );
}

/**
 * Makes sure the pstest server is built for the current sources; returns its path and whether
 * (and how long) it built. Safe against concurrent runs: it builds to a private name and renames.
 */
export async function ensurePstest(log: (msg: string) => void): Promise<{ binary: string; builtMs?: number }> {
  const binary = pstestBinary();
  if (existsSync(binary)) return { binary };
  const go = goCommand();
  mkdirSync(join(binary, '..'), { recursive: true });
  mkdirSync(logsDir, { recursive: true });
  const buildLog = join(logsDir, 'pstest-build.log');
  const staging = `${binary}.${process.pid}`;
  log(`pstest: building ${binary} with ${go} (once per machine; modules from the Go module proxy; log ${buildLog})`);
  const t0 = Date.now();
  const status = await run(go, ['build', '-trimpath', '-o', staging, '.'], pstestSourceDir, buildLog, 20 * 60_000);
  if (status !== 0) {
    rmSync(staging, { force: true });
    const tail = readFileSync(buildLog, 'utf8').slice(-2_000);
    throw new Error(`go build of the pstest server failed (exit ${status}); end of ${buildLog}:\n${tail}`);
  }
  renameSync(staging, binary);
  const builtMs = Date.now() - t0;
  log(`pstest: built in ${(builtMs / 1000).toFixed(1)}s`);
  return { binary, builtMs };
}

function run(command: string, args: string[], cwd: string, output: string, timeoutMs: number): Promise<number | string> {
  const fd = openSync(output, 'w');
  try {
    // -mod=readonly: go.sum is committed and must already cover every module (no silent edits).
    const env = { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly -buildvcs=false`.trim() };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', fd, fd], timeout: timeoutMs, killSignal: 'SIGKILL' });
    return new Promise((resolve) => {
      child.on('error', (err) => resolve(err.message));
      child.on('close', (code, signal) => resolve(code ?? `signal ${signal}`));
    });
  } finally {
    closeSync(fd);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = Date.now();
  const { binary, builtMs } = await ensurePstest((msg) => console.error(`[pstest] ${msg}`));
  console.log(
    builtMs === undefined
      ? `pstest ${pstestVersion()}: cached ${binary} (${Date.now() - t0} ms)`
      : `pstest ${pstestVersion()}: built ${binary} in ${(builtMs / 1000).toFixed(1)}s`,
  );
}
