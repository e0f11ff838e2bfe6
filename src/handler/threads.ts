import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Handler } from './handler.ts';

/** Raised in the main thread for an error the handler threw in its worker thread. */
export class ThreadHandlerError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
    name: string,
  ) {
    super(message);
    this.name = name;
  }
}

/**
 * A handler that runs `spec` in a pool of worker threads (piscina), for CPU-bound handlers that
 * would otherwise block the event loop that feeds the queue. The event is copied to the thread
 * (structured clone); ack and nack stay in the main thread.
 */
export function threadedHandler(spec: string, threads = availableParallelism()): { handler: Handler; close(): Promise<void> } {
  const pool = new Piscina({
    filename: new URL('./thread-worker.mjs', import.meta.url).href,
    workerData: { module: spec },
    minThreads: threads,
    maxThreads: threads,
  });
  const handler: Handler = async (event, context) => {
    const failure = (await pool.run({
      event: {
        id: event.id,
        key: event.key,
        payload: event.payload,
        headers: event.headers,
        timestamp: event.timestamp,
        position: event.position,
        source: event.source,
        attempt: event.attempt,
      },
      attempt: context.attempt,
      broker: context.broker,
    })) as { message: string; name: string; retriable: boolean } | null;
    if (failure) throw new ThreadHandlerError(failure.message, failure.retriable, failure.name);
  };
  return { handler, close: () => pool.destroy() };
}
