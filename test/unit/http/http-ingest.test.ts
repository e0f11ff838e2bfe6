import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, sleep } from '../helpers.ts';
import { ndjson, numberedEvents, payloadNumbers, post, type RunningHttpSluice, startHttpSluice } from './http-helpers.ts';

let running: RunningHttpSluice | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('HTTP source: POST /v1/events', () => {
  it('takes one JSON event, a JSON array and NDJSON, with keys, headers, ids and base64 payloads', async () => {
    running = await startHttpSluice();
    const { url } = running;

    const one = await post(url, JSON.stringify({ id: 'order-1', key: 'a', headers: { h: 'v' }, payload: { n: 0 } }));
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual({ events: 1, processed: 1, deadLettered: 0, dropped: 0, ids: ['order-1'] });

    const array = await post(url, JSON.stringify(numberedEvents(3, 1)));
    expect(array.status).toBe(200);
    expect(await array.json()).toMatchObject({ events: 3, processed: 3 });

    const lines = `${ndjson(numberedEvents(3, 4))}\n\n${JSON.stringify({ payloadBase64: Buffer.from([0, 1, 255]).toString('base64') })}\n`;
    const nd = await post(url, lines, 'application/x-ndjson');
    expect(nd.status).toBe(200);
    expect(await nd.json()).toMatchObject({ events: 4, processed: 4 });

    const { handled } = running;
    expect(handled).toHaveLength(8);
    expect(payloadNumbers(handled.slice(0, 7))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const first = handled[0]!;
    expect(first.id).toBe('order-1');
    expect(first.key).toBe('a');
    expect(first.headers).toEqual({ h: 'v' });
    expect(first.source).toBe('http');
    expect(first.position.partition).toBe('http');
    // Generated ids and positions follow the server's sequence.
    expect(handled[1]!.id).toBe('http-2');
    expect(handled[1]!.position.offset).toBe('2');
    expect([...handled[7]!.payload]).toEqual([0, 1, 255]);
  });

  it('with ack: processed answers only after the handler finished every event of the request', async () => {
    const finished: number[] = [];
    running = await startHttpSluice(
      {},
      {
        handler: async (event) => {
          await sleep(50);
          finished.push(JSON.parse(event.payload.toString()).n);
        },
      },
    );
    const response = await post(running.url, JSON.stringify(numberedEvents(5)));
    // Read before anything else can run: the handler's records are complete at response time.
    const done = [...finished];
    expect(response.status).toBe(200);
    expect(done.sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('with ack: processed answers 503 listing the events that failed with no dead-letter destination', async () => {
    running = await startHttpSluice(
      {},
      {
        config: { handler: { module: 'noop', retry: { maxAttempts: 1 } }, deadLetter: { type: 'none' } },
        handler: (event) => {
          if (JSON.parse(event.payload.toString()).n === 1) throw new Error('poison');
        },
      },
    );
    const response = await post(running.url, JSON.stringify(numberedEvents(3)));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toMatchObject({ events: 3, processed: 2, failed: [1], error: expect.stringContaining('poison') });
  });

  it('with ack: processed counts an event written to the dead-letter file as done (200)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-http-dlq-'));
    running = await startHttpSluice(
      {},
      {
        config: { handler: { module: 'noop', retry: { maxAttempts: 1 } }, deadLetter: { type: 'file', path: join(dir, 'dlq.jsonl') } },
        handler: (event) => {
          if (JSON.parse(event.payload.toString()).n === 1) throw new Error('poison');
        },
      },
    );
    const response = await post(running.url, JSON.stringify(numberedEvents(3)));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ events: 3, processed: 2, deadLettered: 1 });
    expect(await readFile(join(dir, 'dlq.jsonl'), 'utf8')).toContain('poison');
  });

  it('with a lossy queue policy, events the queue dropped are reported as dropped (200: done, not processed)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    running = await startHttpSluice(
      {},
      { handler: () => gate, config: { queue: { maxEvents: 2, policy: 'drop-newest' }, pool: { size: 1 } } },
    );
    const first = post(running.url, JSON.stringify(numberedEvents(3)));
    await eventually(() => running!.handled.length === 1, 10_000, 'the first event started');
    const second = await post(running.url, JSON.stringify(numberedEvents(3, 10)));
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ events: 3, processed: 0, dropped: 3 });
    release();
    expect(await (await first).json()).toMatchObject({ events: 3, processed: 3, dropped: 0 });
  });

  it('with ack: accepted answers 202 once the events are queued, before they are processed', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    running = await startHttpSluice({ ack: 'accepted' }, { handler: () => gate });
    const response = await post(running.url, ndjson(numberedEvents(4)), 'application/x-ndjson');
    expect(response.status).toBe(202);
    const body = (await response.json()) as { accepted: number; ids: string[] };
    expect(body.accepted).toBe(4);
    expect(body.ids).toHaveLength(4);
    expect(running.sluice.pipeline.stats.completed).toBe(0);
    release();
  });

  it('exports request counters by status code and request latency', async () => {
    running = await startHttpSluice();
    await post(running.url, JSON.stringify({ payload: 1 }));
    await post(running.url, '{', 'application/json');
    const text = await running.registry.metrics();
    expect(text).toMatch(/^sluice_http_requests_total\{broker="http",code="200"\} 1$/m);
    expect(text).toMatch(/^sluice_http_requests_total\{broker="http",code="400"\} 1$/m);
    expect(text).toMatch(/^sluice_http_request_duration_seconds_count\{broker="http",code="200"\} 1$/m);
    expect(text).toMatch(/^sluice_http_events_total\{broker="http",outcome="queued"\} 1$/m);
    expect(running.sluice.pipeline.health().ready).toBe(true);
  });
});
