// The local stack's lock (deploy/local/lock.ts): two `brokers:up` must never both launch a
// broker. Real processes race for it here, as two `brokers:up` (a shell and a test run) do.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquire, release } from '../../deploy/local/lock.ts';

const CONTENDER = join(import.meta.dirname, 'fixtures', 'lock-contender.ts');

function contender(file: string, log: string, rounds: number): Promise<number | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', CONTENDER, file, log, String(rounds)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

/** Lines must pair up: each "enter p" directly followed by "exit p"; returns the pairs. */
function holdsOneAtATime(log: string): number {
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  for (let i = 0; i < lines.length; i += 2) {
    const [enter, exit] = [lines[i], lines[i + 1]];
    const pid = enter.split(' ')[1];
    expect(`${enter} / ${exit}`, `line ${i + 1}: another process entered while ${pid} held the lock`).toBe(`enter ${pid} / exit ${pid}`);
  }
  return lines.length / 2;
}

/** The pid of a process that has exited: what a lock left by a killed `brokers:up` holds. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('local stack lock', () => {
  it('four processes racing for it 40 times each never hold it at the same time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
    const [file, log] = [join(dir, 'kafka.lock'), join(dir, 'log')];
    const codes = await Promise.all([1, 2, 3, 4].map(() => contender(file, log, 40)));
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(holdsOneAtATime(log)).toBe(160);
    expect(existsSync(file)).toBe(false);
  }, 120_000);

  it('a lock left by a dead process is broken once, with processes racing to break it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
    const [file, log] = [join(dir, 'kafka.lock'), join(dir, 'log')];
    writeFileSync(file, String(deadPid()));
    const codes = await Promise.all([1, 2, 3, 4].map(() => contender(file, log, 5)));
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(holdsOneAtATime(log)).toBe(20);
  }, 120_000);

  it('a live holder makes the next one wait, then fail naming the holder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-lock-'));
    const file = join(dir, 'kafka.lock');
    await acquire(file, { waitMs: 1000 });
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
    // This process holds it: a second acquire sees a live holder (itself) and gives up.
    await expect(acquire(file, { waitMs: 300, pollMs: 50, what: 'kafka' })).rejects.toThrow(
      `kafka: another process (pid ${process.pid}) holds ${file}`,
    );
    release(file);
    expect(existsSync(file)).toBe(false);
  });
});
