// An exclusive, cross-process lock on a file, for `brokers:up` / `brokers:down`: two of them (a
// shell and a test run, or two test runs) must never launch the same broker twice.
//
// Why not `open(file, 'wx')` then write the pid: between the create and the write, another
// process reads an empty file, takes it for a lock left by a dead process, removes it and
// creates its own, so both hold the lock. Here the lock file appears with its content already
// in it: the pid is written to a private temporary file, which is then hard-linked to the lock
// path; `link` fails with EEXIST when the lock exists, atomically, on every local filesystem.
//
// A lock whose holder died is broken under a second lock (`<file>.break`, taken the same way):
// the breaker re-reads the holder under it, so two processes that both saw the same dead holder
// cannot remove each other's fresh lock. A breaker lock left by a process that died within those
// few lines is itself stale once its holder is gone.
import { linkSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LockOptions {
  /** Give up after this long, with an error naming the holder's pid. */
  waitMs: number;
  /** How often to look again while another live process holds the lock. */
  pollMs?: number;
  /** What is locked, for the error message. */
  what?: string;
}

/** Runs `fn` while holding the lock at `file` (its directory must exist). */
export async function withFileLock<T>(file: string, options: LockOptions, fn: () => Promise<T>): Promise<T> {
  await acquire(file, options);
  try {
    return await fn();
  } finally {
    release(file);
  }
}

export async function acquire(file: string, { waitMs, pollMs = 250, what = file }: LockOptions): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (tryCreate(file)) return;
    const holder = holderOf(file);
    if (holder === undefined) continue; // released between our try and our read: try again at once
    if (!isAlive(holder)) {
      breakStale(file, holder);
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${what}: another process (pid ${holder}) holds ${file}`);
    await sleep(pollMs);
  }
}

/** Removes the lock if this process holds it. */
export function release(file: string): void {
  if (holderOf(file) === process.pid) rmSync(file, { force: true });
}

/** Creates `file` holding this process's pid, atomically; false if it exists. */
function tryCreate(file: string): boolean {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, String(process.pid));
  try {
    linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** The pid in the lock file; undefined when there is no lock file. Never an empty read: see above. */
function holderOf(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function breakStale(file: string, deadHolder: number): void {
  const breaker = `${file}.break`;
  if (!tryCreate(breaker)) {
    const other = holderOf(breaker);
    // Someone alive is breaking it now: let them. A breaker whose holder died is removed, and
    // the caller's loop will look again (it cannot remove a live breaker: pids are re-read).
    if (other !== undefined && !isAlive(other)) rmSyncIfHeldBy(breaker, other);
    return;
  }
  try {
    // Still the dead holder we saw? Then nobody has replaced it, and nobody can while we hold
    // the breaker (replacing it needs the breaker or a free path).
    if (holderOf(file) === deadHolder) unlinkSync(file);
  } finally {
    rmSync(breaker, { force: true });
  }
}

function rmSyncIfHeldBy(file: string, pid: number): void {
  if (holderOf(file) === pid) rmSync(file, { force: true });
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
