import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { HttpSource } from '../../../adapters/http/http-source.ts';
import { Sluice } from '../../../src/app.ts';
import type { SourceEvent } from '../../../src/broker/contract.ts';
import { validateConfig } from '../../../src/config/load.ts';
import type { Handler } from '../../../src/handler/handler.ts';

export interface RunningHttpSluice {
  readonly sluice: Sluice;
  /** http(s)://127.0.0.1:<port>/v1/events */
  readonly url: string;
  readonly port: number;
  /** Every log line Sluice wrote (level debug and up). */
  readonly logs: string[];
  /** What the handler was given, in the order it ran. */
  readonly handled: SourceEvent[];
  readonly registry: Registry;
  stop(): Promise<void>;
}

/**
 * Sluice with `broker.type: http` on a free port, a recording handler (or `handler`, which is
 * called after the recording), and its logs captured.
 */
export async function startHttpSluice(
  http: Record<string, unknown> = {},
  options: { handler?: Handler; config?: Record<string, unknown> } = {},
): Promise<RunningHttpSluice> {
  const config = await validateConfig({
    broker: { type: 'http', http: { host: '127.0.0.1', port: 0, ...http } },
    metrics: { enabled: false },
    log: { level: 'debug' },
    ...options.config,
  });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, destination);
  const handled: SourceEvent[] = [];
  const handler: Handler = (event, context) => {
    handled.push(event);
    return options.handler?.(event, context);
  };
  const registry = new Registry();
  const sluice = await Sluice.create(config, logger, { handler, registry });
  await sluice.start();
  const source = sluice.pipeline.source as HttpSource;
  const port = source.port!;
  return {
    sluice,
    url: `${source.scheme}://127.0.0.1:${port}/v1/events`,
    port,
    logs,
    handled,
    registry,
    stop: () => sluice.stop(),
  };
}

export const ndjson = (events: readonly unknown[]) => events.map((event) => JSON.stringify(event)).join('\n');

export function post(
  url: string,
  body: string | Buffer | Uint8Array,
  contentType = 'application/json',
  headers: Record<string, string> = {},
) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
}

/** Events `from`..`from+count-1` with payload { n } and key k<n mod 4>. */
export const numberedEvents = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({ key: `k${(from + i) % 4}`, payload: { n: from + i } }));

export const payloadNumbers = (events: readonly SourceEvent[]) =>
  events.map((event) => (JSON.parse(event.payload.toString()) as { n: number }).n);
