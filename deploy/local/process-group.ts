// Start a broker as the leader of its own process group and stop that group again.
// Brokers such as the Pub/Sub emulator are a launcher plus a java child: killing only the
// launcher would leave the JVM holding the port, so every signal goes to the whole group.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';

export interface LaunchCommand {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface Launched {
  pgid: number;
  child: ChildProcess;
  /** Set once the group leader has exited (the broker died or was stopped). */
  exited: () => { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

/** Spawns `cmd` detached (setsid: its pid is the group id), stdout and stderr to `log`. */
export function launchGroup(cmd: LaunchCommand, log: string): Launched {
  const fd = openSync(log, 'w');
  writeSync(fd, `# ${new Date().toISOString()} ${cmd.command} ${cmd.args.join(' ')}\n`);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    const child = spawn(cmd.command, cmd.args, {
      cwd: cmd.cwd,
      env: { ...process.env, ...cmd.env },
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    child.on('exit', (code, signal) => (exit = { code, signal }));
    // A spawn failure (ENOENT) arrives as an event; record it as an exit so waiters stop.
    child.on('error', () => (exit ??= { code: 127, signal: null }));
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${cmd.command}`);
    return { pgid: child.pid, child, exited: () => exit };
  } finally {
    closeSync(fd);
  }
}

interface ProcStat {
  pid: number;
  state: string;
  pgrp: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, state: rest[0]!, pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

const hasProc = (() => {
  try {
    readdirSync('/proc/self');
    return true;
  } catch {
    return false;
  }
})();

/** Live (non-zombie) members of process group `pgid`. Without /proc: the leader, if it answers. */
export function groupMembers(pgid: number): number[] {
  if (!hasProc) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') members.push(stat.pid);
  }
  return members;
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/**
 * Whether group `pgid` still runs something whose command line contains `marker`.
 * Guards against signalling an unrelated group that reused a recorded pid.
 */
export function groupRuns(pgid: number, marker: string): boolean {
  const members = groupMembers(pgid);
  if (!hasProc) return members.length > 0;
  return members.some((pid) => commandLine(pid).includes(marker));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (groupMembers(pgid).length === 0) return true;
    await sleep(100);
  }
  return groupMembers(pgid).length === 0;
}

/**
 * SIGTERM to the whole group, wait up to `graceMs` for every member to exit, then SIGKILL
 * and wait a little more. Returns how it ended; throws if processes survive SIGKILL.
 */
export async function stopGroup(pgid: number, graceMs: number): Promise<'not-running' | 'terminated' | 'killed'> {
  if (groupMembers(pgid).length === 0) return 'not-running';
  signalGroup(pgid, 'SIGTERM');
  if (await waitGone(pgid, graceMs)) return 'terminated';
  signalGroup(pgid, 'SIGKILL');
  if (await waitGone(pgid, 5_000)) return 'killed';
  throw new Error(`process group ${pgid} survived SIGKILL: ${groupMembers(pgid).join(', ')}`);
}
