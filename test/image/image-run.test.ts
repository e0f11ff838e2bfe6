// Runs the image that `npm run image` built, as a cluster would: read-only root filesystem with a
// tmpfs /tmp, every capability dropped, no new privileges, the image's own user, entrypoint and
// default config. It proves the image starts, gets ready, processes events on the memory broker as
// uid 10001, and drains and exits 0 on SIGTERM; and that a handler mounted as a volume runs in
// worker threads and its failures are dead-lettered to /tmp, the one writable place.
// `npm run image:test`; it never skips: without a built image or an engine that can run it, it
// fails and says why.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, withTimeout } from '../integration/wait.ts';
import { freePort } from '../sluice-cli.ts';

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

/** The sum of one Prometheus counter's series that carry `label`. */
function counter(metrics: string, name: string, label: string): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith(`${name}{`) && line.includes(label)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * One `<engine> run` of the image, hardened as a cluster would run it, serving /metrics on
 * 127.0.0.1:<port> of the host network. Stops only what it started: its container, by its unique
 * name, and its engine process, by pid.
 */
class Container {
  private static count = 0;
  readonly name = `sluice-image-test-${process.pid}-${Container.count++}`;
  private child: ChildProcess | undefined;
  private exit: Promise<number | null> = Promise.resolve(null);
  output = '';
  port = 0;

  constructor(
    private readonly engine: 'docker' | 'podman',
    private readonly image: string,
  ) {}

  async start(options: { env?: Record<string, string>; volumes?: string[] } = {}): Promise<void> {
    this.port = await freePort();
    const env = {
      SLUICE_METRICS__HOST: '127.0.0.1',
      SLUICE_METRICS__PORT: String(this.port),
      SLUICE_SHUTDOWN__TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      ...options.env,
    };
    const args = [
      'run',
      '--rm',
      '--name',
      this.name,
      '--network',
      'host',
      '--read-only',
      ...(this.engine === 'podman' ? ['--read-only-tmpfs=false'] : []),
      '--tmpfs',
      '/tmp:rw,nosuid,nodev,mode=1777,size=64m',
      '--cap-drop',
      'ALL',
      '--security-opt',
      'no-new-privileges',
      ...runtimeArgs(this.engine),
      ...(options.volumes ?? []).flatMap((volume) => ['--volume', volume]),
      ...Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
      this.image,
    ];
    const child = spawn(this.engine, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout.on('data', (chunk: Buffer) => (this.output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (this.output += chunk));
    this.exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async waitReady(): Promise<void> {
    await eventually(
      async () => {
        if (this.child?.exitCode !== null) throw new Error(`the container exited with ${this.child?.exitCode}:\n${this.output}`);
        const status = await fetch(this.url('/readyz')).then(
          (response) => response.status,
          () => undefined,
        );
        return status === 200 ? status : undefined;
      },
      90_000,
      `/readyz 200 from ${this.name}; its output so far:\n${this.output}`,
    );
  }

  /** The sum of sluice_events_processed_total's series with this outcome. */
  async processed(outcome: string): Promise<number> {
    return counter(await (await fetch(this.url('/metrics'))).text(), 'sluice_events_processed_total', `outcome="${outcome}"`);
  }

  /** Waits until at least `more` further events had this outcome. */
  async processedGrows(outcome: string, more: number): Promise<{ first: number; later: number }> {
    const first = await eventually(
      async () => ((await this.processed(outcome)) > 0 ? this.processed(outcome) : undefined),
      30_000,
      `a first ${outcome} event`,
    );
    const later = await eventually(
      async () => {
        const now = await this.processed(outcome);
        return now >= first + more ? now : undefined;
      },
      30_000,
      `${more} more ${outcome} events after ${first}`,
    );
    return { first, later };
  }

  hostPid(): string {
    return execFileSync(this.engine, ['inspect', '--format', '{{.State.Pid}}', this.name], { encoding: 'utf8' }).trim();
  }

  /** SIGTERM to PID 1; the exit code and how long the drain took. */
  async terminate(): Promise<{ code: number | null; ms: number }> {
    const started = Date.now();
    execFileSync(this.engine, ['kill', '--signal', 'SIGTERM', this.name], { stdio: 'ignore' });
    const code = await withTimeout(this.exit, SHUTDOWN_TIMEOUT_MS + 5_000, () => `exit after SIGTERM; output:\n${this.output}`);
    return { code, ms: Date.now() - started };
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    try {
      execFileSync(this.engine, ['kill', '--signal', 'SIGKILL', this.name], { stdio: 'ignore' });
    } catch {
      // not started yet, or already gone
    }
    await withTimeout(this.exit, 10_000, () => `${this.engine} run to end after SIGKILL`).catch(() => {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
    });
  }
}

const built = builtImage();
const engine = runEngine(built);

describe('the container image, as built, with its default config', () => {
  const container = new Container(engine, built.id);
  beforeAll(() => container.start({ env: { SLUICE_BROKER__MEMORY__LOAD__RATE: '2000' } }));
  afterAll(() => container.stop());

  it('becomes ready: /readyz answers 200', () => container.waitReady());

  it('runs node as PID 1 of its namespace, as uid and gid 10001, on a read-only root filesystem', () => {
    const pid = container.hostPid();
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
    const { first, later } = await container.processedGrows('success', 1000);
    expect(later).toBeGreaterThan(first);
  });

  it('drains and exits 0 on SIGTERM within shutdown.timeoutMs', async () => {
    const { code, ms } = await container.terminate();
    expect(code, container.output).toBe(0);
    expect(ms).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(container.output).toContain('shutting down');
  });
});

describe('the container image with a handler mounted as a volume', () => {
  const container = new Container(engine, built.id);
  const handlers = fileURLToPath(new URL('./handlers', import.meta.url));
  beforeAll(() =>
    container.start({
      volumes: [`${handlers}:/app/handlers:ro`],
      env: {
        SLUICE_HANDLER__MODULE: '/app/handlers/always-fails.mjs',
        SLUICE_POOL__MODE: 'threads',
        SLUICE_POOL__THREADS: '2',
        SLUICE_BROKER__MEMORY__LOAD__RATE: '200',
      },
    }),
  );
  afterAll(() => container.stop());

  it('runs it in worker threads and dead-letters its failures to /tmp on the read-only root', async () => {
    await container.waitReady();
    // dead_lettered counts only events whose dead-letter write succeeded (then they are acked).
    const { first, later } = await container.processedGrows('dead_lettered', 100);
    expect(later).toBeGreaterThan(first);
    expect(await container.processed('failed')).toBe(0);
    const { code } = await container.terminate();
    expect(code, container.output).toBe(0);
  });
});
