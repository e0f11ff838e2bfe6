// A SIGTERM that arrives while `sluice run` is still starting: what a rolling deployment sends to
// a pod that never became ready. Sluice must stop gracefully once started, or exit within
// `shutdown.timeoutMs` when start-up does not end, never be killed mid-way by the default handler.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSluice } from '../sluice-cli.ts';
import { eventually } from './helpers.ts';

/** A config whose handler takes `startMs` to load (forever when undefined), then counts events. */
async function slowStart(startMs: number | undefined): Promise<{ config: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-signal-'));
  const handler = join(dir, 'slow-start.mjs');
  const wait = startMs === undefined ? 'await new Promise(() => {});' : `await new Promise((r) => setTimeout(r, ${startMs}));`;
  await writeFile(handler, `process.stderr.write('handler loading\\n');\n${wait}\nexport default async () => {};\n`);
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      'broker:',
      '  type: memory',
      '  memory:',
      '    load: { enabled: true, rate: 200 }',
      `handler: { module: ${handler} }`,
      'shutdown: { timeoutMs: 3000 }',
      'metrics: { enabled: false }',
      '',
    ].join('\n'),
  );
  return { config, dir };
}

describe('sluice run: a signal during start-up', () => {
  it('stops gracefully once start-up ends (exit 0, the pipeline stopped, not killed)', async () => {
    const { config } = await slowStart(2000);
    const { child, output, exited } = spawnSluice(['run', '--quiet', '--log-format', 'json', '--config', config]);
    try {
      await eventually(() => /handler loading/.test(output.stderr), 20_000, 'start-up to reach the handler');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output.stdout).toMatch(/signal during start-up: stopping once started/);
      expect(output.stdout).toMatch(/started after the signal: shutting down/);
      expect(output.stdout).toMatch(/"msg":"sluice stopped"/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  it('exits within the shutdown timeout when start-up never ends, saying so (exit 1)', async () => {
    const { config } = await slowStart(undefined);
    const { child, output, exited } = spawnSluice(['run', '--quiet', '--log-format', 'json', '--config', config]);
    try {
      await eventually(() => /handler loading/.test(output.stderr), 20_000, 'start-up to reach the handler');
      child.kill('SIGTERM');
      expect(await exited).toBe(1);
      expect(output.stdout).toMatch(/start-up did not end within the shutdown timeout: exiting/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
