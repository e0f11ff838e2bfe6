// The compiled build is what users run (the `sluice` bin, `npm start`, the container image).
// This suite builds dist/, installs it the way production does (`npm ci --omit=dev`, so neither
// tsx nor TypeScript is there) in a directory of its own, and runs the compiled command: its
// version, a config check, and a real run on the memory broker that serves /readyz, processes
// events and exits 0 on SIGTERM. Also the worker-thread entry (pool.mode: threads).
import { type ChildProcess, execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnSluice } from '../../sluice-cli.ts';
import { eventually } from '../../unit/helpers.ts';

const exec = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let app: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  await exec(npm, ['run', '--silent', 'build'], { maxBuffer: 16 << 20 });
  app = await mkdtemp(join(tmpdir(), 'sluice-compiled-'));
  for (const entry of ['dist', 'config', 'package.json', 'package-lock.json']) await cp(entry, join(app, entry), { recursive: true });
  await exec(npm, ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: app,
    maxBuffer: 16 << 20,
  });
}, 300_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (app) await rm(app, { recursive: true, force: true });
});

function sluice(args: string[]) {
  const running = spawnSluice(args, { cwd: app, entry: ['dist/src/cli/sluice.js'] });
  children.push(running.child);
  return running;
}

async function get(url: string): Promise<{ status: number; text: string } | undefined> {
  try {
    const response = await fetch(url);
    return { status: response.status, text: await response.text() };
  } catch {
    return undefined;
  }
}

describe('the compiled build, installed without dev dependencies', () => {
  it('has no tsx or TypeScript to lean on', () => {
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/typescript'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/kafkajs'))).toBe(true);
  });

  it('sluice --version prints the package version', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const { output, exited } = sluice(['--version']);
    expect(await exited).toBe(0);
    expect(output.stdout.trim()).toBe(version);
  });

  it('sluice config check loads every broker adapter schema', async () => {
    for (const file of ['default', 'kafka.example', 'kinesis.example', 'pubsub.example']) {
      const { output, exited } = sluice(['config', 'check', '--config', `config/${file}.yaml`]);
      expect(await exited, output.stderr).toBe(0);
      expect(output.stdout).toMatch(/is valid/);
    }
  });

  for (const mode of ['async', 'threads'] as const) {
    it(`sluice run (pool.mode ${mode}) is ready, processes events and exits 0 on SIGTERM`, async () => {
      const port = await freePort();
      const config = join(app, `run-${mode}.yaml`);
      await writeFile(
        config,
        `broker:\n  type: memory\n  memory:\n    load: { enabled: true, rate: 2000 }\npool:\n  mode: ${mode}\n  size: 4\nmetrics:\n  host: 127.0.0.1\n  port: ${port}\n`,
      );
      const { child, output, exited } = sluice(['run', '--quiet', '--config', config]);
      let metrics = '';
      await eventually(() => /"msg":"sluice running"/.test(output.stdout) || child.exitCode !== null, 30_000, 'start-up');
      expect(child.exitCode, output.stderr).toBe(null);
      const ready = await get(`http://127.0.0.1:${port}/readyz`);
      expect(ready?.status).toBe(200);
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        metrics = (await get(`http://127.0.0.1:${port}/metrics`))?.text ?? '';
        if (/sluice_events_processed_total\{broker="memory",outcome="success"\} [1-9]/.test(metrics)) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(metrics).toMatch(/sluice_events_processed_total\{broker="memory",outcome="success"\} [1-9]/);
      child.kill('SIGTERM');
      expect(await exited, output.stderr).toBe(0);
      expect(output.stdout).toMatch(/"msg":"sluice stopped"/);
    });
  }
});
