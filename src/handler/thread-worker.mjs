// Runs a user handler inside a worker thread (pool.mode: threads). Plain JavaScript on purpose:
// worker threads do not inherit the TypeScript loader of the main thread.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { workerData } from 'node:worker_threads';
import pino from 'pino';

const logger = pino({ name: 'sluice-handler-thread' });
const spec = workerData.module;
let handler;
if (spec === 'noop') handler = () => undefined;
else if (spec === 'log') handler = (event) => logger.info({ id: event.id, key: event.key }, 'event');
else {
  const module = await import(pathToFileURL(resolve(spec)).href);
  handler = module.default;
  if (typeof handler !== 'function') throw new Error(`${spec} must export a default function (event, context)`);
}

/** The event arrives as a structured clone (payload as Uint8Array); give it back its Buffer. */
export default async function run({ event, attempt, broker }) {
  event.payload = Buffer.from(event.payload.buffer, event.payload.byteOffset, event.payload.byteLength);
  try {
    await handler(event, { attempt, broker, logger });
    return null;
  } catch (error) {
    // Errors cross the thread boundary as plain data; keep what retry logic reads.
    return { message: error?.message ?? String(error), name: error?.name ?? 'Error', retriable: error?.retriable !== false };
  }
}
