// Two `brokers:up` at once (a shell and a test run, or two test runs) must launch a broker once:
// the second waits for the first's lock, then finds it running and reuses it. Raced here for
// real, on a private Kafka (own ports, own state directory) beside the shared one.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../sluice-cli.ts';
import { requireBroker } from '../brokers.ts';

function brokers(command: 'up' | 'down', env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'deploy/local/brokers.ts', command, 'kafka'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

/** Running, not a zombie waiting for its new parent to reap it after `down` killed it. */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('brokers:up raced by two processes', () => {
  it('launches the broker once; the other reuses it; brokers:down stops it', async (ctx) => {
    requireBroker('kafka', ctx); // the jars and certificates come from the shared Kafka's start
    const env = {
      SLUICE_BROKERS_STATE_DIR: mkdtempSync(join(tmpdir(), 'sluice-up-race-')),
      SLUICE_KAFKA_PORT: String(await freePort()),
      SLUICE_KAFKA_CONTROLLER_PORT: String(await freePort()),
      SLUICE_KAFKA_SASL_PORT: String(await freePort()),
    };
    let pid: number | undefined;
    try {
      const [a, b] = await Promise.all([brokers('up', env), brokers('up', env)]);
      const outputs = [a.out, b.out];
      expect([a.code, b.code], outputs.join('\n----\n')).toEqual([0, 0]);
      const started = outputs.map((out) => /^kafka .* started in [\d.]+s \(pid (\d+)\)/m.exec(out)?.[1]).filter(Boolean);
      const reused = outputs.map((out) => /^kafka .* already running \(pid (\d+)\)/m.exec(out)?.[1]).filter(Boolean);
      expect(started, outputs.join('\n----\n')).toHaveLength(1);
      expect(reused).toEqual(started);
      pid = Number(started[0]);
      // Its variables are for tools; `sluice run` is pointed at the broker by a profile, said so.
      expect(a.out).toMatch(
        /sluice run does not read those; point it at a local broker with its profile:\n#\s+sluice run --config config\/local\/kafka\.yaml/,
      );
      expect(alive(pid)).toBe(true);
    } finally {
      const down = await brokers('down', env);
      expect(down.code, down.out).toBe(0);
      if (pid !== undefined) expect(alive(pid)).toBe(false);
    }
  }, 240_000);
});
