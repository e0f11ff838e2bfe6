// The bench's child processes (consumer, producers): started with IPC, awaited by message, stopped.
import { fork, type ChildProcess } from 'node:child_process';
import { SluiceError } from '../errors.ts';
import type { ToConsumer } from './messages.ts';
import { childExecArgv, moduleUrl } from '../util/runtime.ts';

export function spawnChild(module: string): ChildProcess {
  return fork(moduleUrl(module, import.meta.url), [], { execArgv: childExecArgv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/** Waits for the first message matching `type` (rejects on an error message, exit, or timeout). */
export function expectMessage<T extends { type: string }>(child: ChildProcess, type: string, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new SluiceError(`${what}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: { type: string; message?: string }) => {
      if (message.type === type) done(undefined, message as unknown as T);
      else if (message.type === 'error') done(new SluiceError(`${what}: ${message.message}`));
    };
    const onExit = (code: number | null) => done(new SluiceError(`${what}: exited (${code}) before ${type}`));
    function done(error?: Error, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value!);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export async function stopChild(child: ChildProcess | undefined, graceful?: ToConsumer): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (graceful && child.connected) child.send(graceful);
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
