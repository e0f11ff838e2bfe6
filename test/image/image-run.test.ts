// Runs the image that `npm run image` built, as a cluster would: read-only root filesystem with a
// tmpfs /tmp, every capability dropped, no new privileges, the image's own user, entrypoint and
// default config. It proves the image starts, gets ready, processes events on the memory broker as
// uid 10001, and drains and exits 0 on SIGTERM. `npm run image:test`; it never skips: without a
// built image or an engine that can run it, it fails and says why.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, withTimeout } from '../integration/wait.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;
const IMAGE_JSON = '.sluice/image/image.json';

interface BuiltImage {
  engine: string;
  id: string;
  tags: string[];
}

function builtImage(): BuiltImage {
  if (!existsSync(IMAGE_JSON)) throw new Error(`${IMAGE_JSON} not found: build the image first with \`npm run image\``);
  return JSON.parse(readFileSync(IMAGE_JSON, 'utf8')) as BuiltImage;
}

const onPath = (command: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** The engine that runs containers: the one that built the image, or podman for buildah's images. */
function runEngine(built: BuiltImage): 'docker' | 'podman' {
  const engine = built.engine === 'buildah' ? 'podman' : built.engine;
  if ((engine === 'docker' || engine === 'podman') && onPath(engine)) return engine;
  throw new Error(`no engine can run ${built.id}: install podman (Debian: apt-get install podman runc)`);
}

/**
 * What this machine needs beyond `<engine> run`: crun 1.8 (Debian bookworm's) refuses hybrid cgroup
 * hierarchies, runc accepts them; and without CAP_SYS_RESOURCE a runtime cannot raise rlimits
 * above the hard limits it inherited, which podman's defaults (nofile 1048576) do.
 */
function runtimeArgs(engine: 'docker' | 'podman'): string[] {
  const hardNofile = Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim()) || 1024;
  const nofile = Math.min(hardNofile, 65_536);
  const args = ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', 'nproc=4096:4096'];
  const runtime = process.env.SLUICE_IMAGE_RUNTIME ?? (engine === 'podman' && onPath('runc') ? 'runc' : undefined);
  if (runtime) args.push('--runtime', runtime);
  return args;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The sum of one Prometheus counter's series that carry `label`. */
function counter(metrics: string, name: string, label: string): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(label)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('the container image', () => {
  const built = builtImage();
  const engine = runEngine(built);
  const name = `sluice-image-test-${process.pid}`;
  let port = 0;
  let child: ChildProcess | undefined;
  let output = '';
  let exited: Promise<number | null>;
  const url = (path: string) => `http://127.0.0.1:${port}${path}`;

  beforeAll(async () => {
    port = await freePort();
    const args = [
      'run',
      '--rm',
      '--name',
      name,
      // Host networking, listening on 127.0.0.1 only: the test reaches /metrics with no port mapping.
      '--network',
      'host',
      '--read-only',
      ...(engine === 'podman' ? ['--read-only-tmpfs=false'] : []),
      '--tmpfs',
      '/tmp:rw,nosuid,nodev,mode=1777,size=64m',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      ...runtimeArgs(engine),
      '--env',
      'SLUICE_METRICS__HOST=127.0.0.1',
      '--env',
      `SLUICE_METRICS__PORT=${port}`,
      '--env',
      `SLUICE_SHUTDOWN__TIMEOUT_MS=${SHUTDOWN_TIMEOUT_MS}`,
      '--env',
      'SLUICE_BROKER__MEMORY__LOAD__RATE=2000',
      built.id,
    ];
    child = spawn(engine, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
    exited = new Promise((resolve) => child?.on('exit', (code) => resolve(code)));
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      // Only what this test started: its container, by its unique name, then its engine process.
      execFileSync(engine, ['rm', '--force', '--time', '0', name], { stdio: 'ignore' });
      if (child.pid) process.kill(child.pid, 'SIGKILL');
    }
  });

  const running = () => `${engine} run still starting; its output so far:\n${output}`;

  it('becomes ready: /readyz answers 200', async () => {
    await eventually(
      async () => {
        if (child?.exitCode !== null) throw new Error(`the container exited with ${child?.exitCode}:\n${output}`);
        const status = await fetch(url('/readyz')).then(
          (response) => response.status,
          () => undefined,
        );
        return status === 200 ? status : undefined;
      },
      90_000,
      `/readyz 200: ${running()}`,
    );
  });

  it('runs node as PID 1 of its namespace, as uid and gid 10001, on a read-only root filesystem', () => {
    const pid = execFileSync(engine, ['inspect', '--format', '{{.State.Pid}}', name], { encoding: 'utf8' }).trim();
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (key: string) =>
      status
        .match(new RegExp(`^${key}:\\s*(.*)$`, 'm'))?.[1]
        .trim()
        .split(/\s+/);
    expect(field('Uid')).toEqual(['10001', '10001', '10001', '10001']);
    expect(field('Gid')).toEqual(['10001', '10001', '10001', '10001']);
    expect(field('NSpid')?.at(-1)).toBe('1');
    expect(field('NoNewPrivs')).toEqual(['1']);
    expect(field('CapEff')).toEqual(['0000000000000000']);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)).toEqual([
      'node',
      '/app/dist/src/cli/sluice.js',
      'run',
      '--config',
      '/etc/sluice/config.yaml',
    ]);
    // mountinfo: id parent major:minor root mount-point options ...
    const mounts = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .map((line) => line.split(' '));
    expect(mounts.find((fields) => fields[4] === '/')?.[5].split(',')).toContain('ro');
    expect(mounts.find((fields) => fields[4] === '/tmp')?.[5].split(',')).toContain('rw');
  });

  it('processes events from the memory broker: sluice_events_processed_total grows', async () => {
    const processed = async () =>
      counter(await (await fetch(url('/metrics'))).text(), 'sluice_events_processed_total', 'outcome="success"');
    const first = await eventually(async () => ((await processed()) > 0 ? processed() : undefined), 30_000, 'a first processed event');
    const later = await eventually(
      async () => {
        const now = await processed();
        return now >= first + 1000 ? now : undefined;
      },
      30_000,
      `1,000 more events processed after ${first}`,
    );
    expect(later).toBeGreaterThan(first);
  });

  it('drains and exits 0 on SIGTERM within shutdown.timeoutMs', async () => {
    const started = Date.now();
    execFileSync(engine, ['kill', '--signal', 'SIGTERM', name], { stdio: 'ignore' });
    const code = await withTimeout(exited, SHUTDOWN_TIMEOUT_MS + 5_000, () => `exit after SIGTERM; output:\n${output}`);
    const elapsed = Date.now() - started;
    expect(code, output).toBe(0);
    expect(elapsed).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(output).toContain('shutting down');
  });
});
