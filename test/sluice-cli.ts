// How tests start the `sluice` command and watch it: from the TypeScript sources through tsx's
// loader by default, so a test needs no build (test/integration/build runs the compiled bin).
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export const SLUICE_CLI: readonly string[] = ['--import', 'tsx', 'src/cli/sluice.ts'];

export interface SluiceProcess {
  child: ChildProcess;
  /** Everything the process wrote so far. */
  output: { stdout: string; stderr: string };
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts `sluice <args>` (by default from the sources) with its output captured. */
export function spawnSluice(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; entry?: readonly string[] } = {},
): SluiceProcess {
  const child = spawn(process.execPath, [...(options.entry ?? SLUICE_CLI), ...args], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk: Buffer) => (output.stdout += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output.stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
