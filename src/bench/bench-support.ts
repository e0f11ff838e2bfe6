import pino from 'pino';
import { sleep } from '../util/sleep.ts';
export { sleep } from '../util/sleep.ts';
export { num as fmt } from './table.ts';

/** What the per-adapter benchmarks (bench:kafka, bench:kinesis, bench:pubsub) share. */

/** A short id that makes this run's topics, streams and groups fresh. */
export const runId = (): string => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

/** Warnings and worse to stderr: stdout carries only the final JSON line. */
export const benchLogger = () => pino({ level: 'warn' }, pino.destination(2));

export const say = (line: string): void => void process.stderr.write(`${line}\n`);

export async function waitUntil(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(5);
  }
}
