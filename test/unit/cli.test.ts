import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, spawnSluice } from '../sluice-cli.ts';
import { eventually } from './helpers.ts';

function sluice(args: string[], env: Record<string, string> = {}) {
  return spawnSluice(args, { env });
}

async function yaml(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'sluice-cli-')), 'config.yaml');
  await writeFile(path, text);
  return path;
}

describe('sluice CLI', () => {
  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const { output, exited } = sluice(['--version']);
    expect(await exited).toBe(0);
    expect(output.stdout.trim()).toBe(version);
  });

  it('replay on the memory broker fails naming broker.type and exits 2 (its dead letters died with the process that wrote them)', async () => {
    const path = await yaml('broker:\n  type: memory\n');
    const { output, exited } = sluice(['replay', '--config', path, '--from', 'events.dlq', '--to', 'events', '--idle-exit-ms', '1000']);
    expect(await exited).toBe(2);
    expect(output.stderr).toMatch(/broker\.type: sluice replay cannot read broker type memory/);
    expect(output.stdout).not.toMatch(/replayed/);
  });

  it('config check names the broken key and exits 2', async () => {
    const path = await yaml('queue:\n  maxEvents: 0\n');
    const { output, exited } = sluice(['config', 'check', '--config', path]);
    expect(await exited).toBe(2);
    expect(output.stderr).toMatch(/config queue\.maxEvents: /);
  });

  it('config check lists every problem with its line, variable or flag, and exits 2', async () => {
    const path = await yaml('queue:\n  maxEvents: 0\npool:\n  sise: 4\n');
    const { output, exited } = sluice(['config', 'check', '--config', path, '--set', 'handler.timeoutMs=soon'], {
      SLUICE_METRICS__PORT: 'abc',
      SLUICE_QUEUE_MAX_EVENTS: '5',
    });
    expect(await exited).toBe(2);
    expect(output.stderr).toMatch(/^sluice: 5 config problems:\n/);
    expect(output.stderr).toContain(
      'config SLUICE_QUEUE_MAX_EVENTS: not read: config variables separate levels with a double underscore; did you mean SLUICE_QUEUE__MAX_EVENTS?',
    );
    expect(output.stderr).toContain(`config queue.maxEvents: Too small: expected number to be >=1 (at ${path}:2)`);
    expect(output.stderr).toContain(`config pool.sise: unknown key: did you mean size? (at ${path}:4)`);
    expect(output.stderr).toContain('config metrics.port: Invalid input: expected number, received string (from SLUICE_METRICS__PORT)');
    expect(output.stderr).toContain(
      'config handler.timeoutMs: Invalid input: expected number, received string (from --set handler.timeoutMs)',
    );
  });

  it('config check and bench take --set over the file', async () => {
    const check = sluice(['config', 'check', '--config', 'config/default.yaml', '--set', 'queue.maxEvents=123', '--set', 'pool.size=3']);
    expect(await check.exited).toBe(0);
    expect(check.output.stdout).toMatch(/queue 123 events, pool 3 async/);
    // An unknown key fails before any broker runs.
    const bench = sluice(['bench', '--brokers', 'memory', '--duration', '1', '--set', 'queue.maxEventz=10']);
    expect(await bench.exited).toBe(2);
    expect(bench.output.stderr).toContain('config queue.maxEventz: unknown key: did you mean maxEvents? (from --set queue.maxEventz)');
  });

  it('config check refuses an empty file, naming it', async () => {
    const path = await yaml('');
    const { output, exited } = sluice(['config', 'check', '--config', path]);
    expect(await exited).toBe(2);
    expect(output.stderr).toContain(`${path} is empty`);
  });

  it('config check accepts the shipped default config', async () => {
    const { output, exited } = sluice(['config', 'check', '--config', 'config/default.yaml']);
    expect(await exited).toBe(0);
    expect(output.stdout).toMatch(/is valid: broker memory/);
  });

  it('run refuses to start on a bad environment override, naming the key', async () => {
    const { output, exited } = sluice(['run', '--config', 'config/default.yaml'], { SLUICE_POOL__SIZE: 'many' });
    expect(await exited).toBe(2);
    expect(output.stderr).toMatch(/pool\.size/);
    const set = sluice(['run', '--config', 'config/default.yaml', '--set', 'pool.size=0']);
    expect(await set.exited).toBe(2);
    expect(set.output.stderr).toContain('config pool.size: Too small: expected number to be >=1 (from --set pool.size)');
  });

  it('run --fault refuses an unknown fault before starting, naming the flag', async () => {
    const { output, exited } = sluice(['run', '--config', 'config/default.yaml', '--fault', 'disk-full']);
    expect(await exited).toBe(2);
    expect(output.stderr).toMatch(/--fault disk-full: unknown fault "disk-full"/);
  });

  it('run --fault starts with the fault on, loud in the logs', async () => {
    const { child, output, exited } = sluice(['run', '--quiet', '--config', 'config/default.yaml', '--fault', 'handler-latency=5ms'], {
      SLUICE_METRICS__PORT: '0',
    });
    try {
      await eventually(() => /FAULT INJECTION ON: handlerLatencyMs/.test(output.stdout), 15_000, 'the fault logged');
      expect(output.stdout).toMatch(/fault injection ENABLED/);
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });

  it('--help lists the commands', async () => {
    const { output, exited } = sluice(['--help']);
    expect(await exited).toBe(0);
    expect(output.stdout).toMatch(/run/);
    expect(output.stdout).toMatch(/config/);
  });

  it('a second signal forces the exit when a handler holds up the graceful shutdown', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
    const handler = join(dir, 'stuck.mjs');
    await writeFile(handler, 'export default () => new Promise(() => {});\n');
    const path = join(dir, 'config.yaml');
    await writeFile(
      path,
      `broker:\n  type: memory\n  memory:\n    load: { enabled: true, rate: 100 }\nhandler:\n  module: ${handler}\nshutdown:\n  timeoutMs: 60000\nmetrics:\n  enabled: false\n`,
    );
    const { child, output, exited } = sluice(['run', '--quiet', '--config', path]);
    try {
      await eventually(() => /"msg":"sluice running"/.test(output.stdout), 20_000, 'start-up');
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill('SIGTERM');
      await eventually(() => /shutting down/.test(output.stdout), 5_000, 'the graceful shutdown to begin');
      child.kill('SIGTERM');
      expect(await exited).toBe(130);
      expect(output.stdout).toMatch(/second signal: exiting now/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('run serves metrics, prints summary lines and shuts down gracefully on SIGTERM', async () => {
    const port = await freePort();
    const path = await yaml(
      `broker:\n  type: memory\n  memory:\n    load: { enabled: true, rate: 2000 }\nmetrics:\n  host: 127.0.0.1\n  port: ${port}\nlog:\n  summaryIntervalMs: 300\n`,
    );
    const { child, output, exited } = sluice(['run', '--config', path]);
    try {
      let text = '';
      await eventually(() => /sluice rate .* \| queue .* \| busy .* \| p99/.test(output.stderr), 20_000, 'a summary line');
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      text = await response.text();
      expect(text).toMatch(/sluice_events_processed_total\{broker="memory",outcome="success"\} [1-9]/);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output.stdout).toMatch(/"msg":"sluice stopped"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
