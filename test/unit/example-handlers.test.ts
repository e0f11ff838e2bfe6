// The example handlers of config/handlers/: what each does with a valid and an invalid event, and
// (for the validator) that a rejected event reaches the dead-letter destination in a running Sluice.
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemoryBroker } from '../../adapters/memory/memory-broker.ts';
import { Sluice } from '../../src/app.ts';
import type { SourceEvent } from '../../src/broker/contract.ts';
import { validateConfig } from '../../src/config/load.ts';
import { isRetriable } from '../../src/errors.ts';
import type { Handler, HandlerContext } from '../../src/handler/handler.ts';
import { loadHandler } from '../../src/handler/load.ts';
import { freePort } from '../sluice-cli.ts';
import { eventually, silent } from './helpers.ts';

const HANDLERS = resolve('config/handlers');
// biome-ignore lint/suspicious/noExplicitAny: the handlers are plain JavaScript modules.
const load = (file: string): Promise<any> => import(pathToFileURL(join(HANDLERS, file)).href);

function event(payload: string, extra: Partial<SourceEvent> = {}): SourceEvent {
  return {
    id: 'orders/0/42',
    key: 'customer-7',
    payload: Buffer.from(payload),
    headers: {},
    timestamp: Date.parse('2026-11-26T10:00:00Z'),
    position: { partition: 'orders/0', offset: '42' },
    source: 'orders',
    attempt: 1,
    ack: () => undefined,
    nack: () => undefined,
    ...extra,
  };
}

const context = (extra: Partial<HandlerContext> = {}): HandlerContext => ({ attempt: 1, broker: 'kafka', logger: silent, ...extra });

/** What a handler threw (or undefined). */
async function thrown(call: () => unknown): Promise<(Error & { retriable?: boolean }) | undefined> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

describe('config/handlers/json-validator.mjs', () => {
  it('passes a JSON object with the required fields and hands the value on', async () => {
    const { validate } = await load('json-validator.mjs');
    const ctx = context();
    expect(validate(event('{"id":1,"type":"order"}'), ctx, ['id', 'type'])).toEqual({ id: 1, type: 'order' });
    // With handler.decode: json, the value Sluice decoded is used as is.
    expect(validate(event('ignored'), context({ value: { id: 2 } }), ['id'])).toEqual({ id: 2 });
  });

  it('rejects non-JSON, non-objects and missing fields as non-retriable (straight to the dead letters)', async () => {
    const { validate, requiredFields } = await load('json-validator.mjs');
    for (const [payload, reason] of [
      ['not json', /is not JSON/],
      ['[1,2]', /is not a JSON object \(found an array\)/],
      ['42', /is not a JSON object \(found number\)/],
      ['{"id":1,"type":null}', /lacks required field\(s\): type/],
    ] as const) {
      const error = await thrown(() => validate(event(payload), context(), ['id', 'type']));
      expect(error?.message, payload).toMatch(reason);
      expect(error?.name).toBe('InvalidEvent');
      expect(isRetriable(error), payload).toBe(false);
    }
    expect(requiredFields({ VALIDATE_REQUIRED_FIELDS: ' id, type ,,' })).toEqual(['id', 'type']);
    expect(requiredFields({})).toEqual([]);
  });
});

describe('config/handlers/enricher.mjs', () => {
  it('adds when and where the event was read, and the constant fields, keeping the fields it has', async () => {
    const { enrich, constantFields } = await load('enricher.mjs');
    const now = new Date('2026-11-26T10:00:05Z');
    const fields = constantFields({ ENRICH_FIELDS: '{"env":"prod","source":"overridden?"}' });
    expect(enrich({ id: 1, source: 'kept' }, event('{}'), context(), fields, now)).toEqual({
      id: 1,
      receivedAt: '2026-11-26T10:00:05.000Z',
      publishedAt: '2026-11-26T10:00:00.000Z',
      source: 'kept',
      partition: 'orders/0',
      offset: '42',
      broker: 'kafka',
      env: 'prod',
    });
    expect(() => constantFields({ ENRICH_FIELDS: '[1]' })).toThrow(/must be a JSON object/);
  });

  it('logs the enriched event, and rejects a payload that is not a JSON object as non-retriable', async () => {
    const { default: enricher } = await load('enricher.mjs');
    const info = vi.fn();
    await enricher(event('{"id":3}'), context({ logger: { info } as never }));
    expect(info).toHaveBeenCalledWith(
      { id: 'orders/0/42', event: expect.objectContaining({ id: 3, source: 'orders', receivedAt: expect.any(String) }) },
      'enriched event',
    );
    const error = await thrown(() => enricher(event('nope'), context()));
    expect(isRetriable(error)).toBe(false);
  });
});

describe('config/handlers/forwarder.mjs', () => {
  let server: Server;
  let url: string;
  const received: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk));
      request.on('end', () => {
        received.push({ path: request.url!, headers: request.headers, body });
        response.statusCode = Number(request.url!.slice(1)) || 200;
        response.end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise((done) => server.close(done)));

  it('POSTs the payload with the event id, source and key; 2xx completes the event', async () => {
    vi.stubEnv('FORWARD_URL', `${url}/204`);
    const forwarder: Handler = (await loadHandler(join(HANDLERS, 'forwarder.mjs'))) as Handler;
    vi.unstubAllEnvs();
    await forwarder(event('{"id":1}'), context());
    expect(received.at(-1)).toMatchObject({
      path: '/204',
      body: '{"id":1}',
      headers: { 'x-sluice-event-id': 'orders/0/42', 'x-sluice-source': 'orders', 'x-sluice-key': 'customer-7' },
    });
  });

  it('retries what the endpoint may accept later (5xx, 429, unreachable) and dead-letters what it refuses (4xx)', async () => {
    const { forward, forwardSettings } = await load('lib/forward.mjs');
    const at = (path: string) => forwardSettings({ FORWARD_URL: `${url}${path}`, FORWARD_TIMEOUT_MS: '5000' });
    for (const [path, retriable] of [
      ['/503', true],
      ['/429', true],
      ['/400', false],
      ['/422', false],
    ] as const) {
      const error = await thrown(() => forward(at(path), event('x'), 'x'));
      expect(error?.message, path).toMatch(new RegExp(`HTTP ${path.slice(1)}`));
      expect(isRetriable(error), path).toBe(retriable);
    }
    const closed = forwardSettings({ FORWARD_URL: `http://127.0.0.1:${await freePort()}/` });
    const unreachable = await thrown(() => forward(closed, event('x'), 'x'));
    expect(unreachable?.message).toMatch(/ECONNREFUSED/);
    expect(isRetriable(unreachable)).toBe(true);
    expect(() => forwardSettings({ FORWARD_URL: 'not a url' })).toThrow(/FORWARD_URL is not a URL/);
    expect(forwardSettings({})).toBeUndefined();
  });
});

describe('the validator in a running Sluice', () => {
  it('acks valid events and writes invalid ones to the dead-letter file at the first try', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-validator-'));
    const topic = `validator-${Math.random().toString(36).slice(2, 8)}`;
    const config = await validateConfig({
      broker: { type: 'memory', memory: { topic, group: 'g' } },
      handler: { module: './config/handlers/json-validator.mjs', retry: { maxAttempts: 3, initialBackoffMs: 1000 } },
      deadLetter: { type: 'file', path: join(dir, 'dead.jsonl') },
      metrics: { enabled: false },
    });
    const sluice = await Sluice.create(config, silent);
    await sluice.start();
    try {
      await MemoryBroker.shared('default').publish(topic, [
        { key: 'a', payload: Buffer.from('{"id":1}') },
        { key: 'b', payload: Buffer.from('not json') },
        { key: 'c', payload: Buffer.from('[]') },
      ]);
      await eventually(() => sluice.pipeline.stats.completed === 3, 10_000, 'three events finished');
      const lines = (await readFile(join(dir, 'dead.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines.map((line) => Buffer.from(line.payload, 'base64').toString()).sort()).toEqual(['[]', 'not json']);
      for (const line of lines) {
        expect(line.headers['sluice-error-type']).toBe('InvalidEvent');
        expect(line.headers['sluice-attempts']).toBe('1');
      }
    } finally {
      await sluice.stop();
    }
  });
});
