import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ndjson, numberedEvents, post, type RunningHttpSluice, startHttpSluice } from './http-helpers.ts';

/** Bad bodies get 400 (or 413) naming where and which field, and none of their events is taken. */
describe('HTTP source: malformed and oversized requests', () => {
  let running: RunningHttpSluice;
  beforeAll(async () => {
    running = await startHttpSluice();
  });
  afterAll(() => running.stop());

  async function refused(response: Response, status: number): Promise<Record<string, unknown>> {
    expect(response.status).toBe(status);
    const body = (await response.json()) as Record<string, unknown>;
    expect(running.handled).toHaveLength(0);
    expect(running.sluice.pipeline.stats.received).toBe(0);
    return body;
  }

  it('truncated JSON: 400', async () => {
    const body = await refused(await post(running.url, '[{"payload":1},{"payl'), 400);
    expect(body.error).toMatch(/not valid JSON/);
  });

  it('a wrong type in an array: 400 naming the index and field, the valid events before it not taken', async () => {
    const events: unknown[] = numberedEvents(3);
    events[1] = { key: 7, payload: {} };
    expect(await refused(await post(running.url, JSON.stringify(events)), 400)).toMatchObject({
      index: 1,
      field: 'key',
      error: 'event [1], field key: expected a string, got number 7',
    });
  });

  it('a wrong type on an NDJSON line: 400 naming the line and field', async () => {
    const lines = ndjson([...numberedEvents(2), { payload: 1, headers: { x: 1 } }]);
    expect(await refused(await post(running.url, lines, 'application/x-ndjson'), 400)).toMatchObject({ line: 3, field: 'headers.x' });
    const broken = `${ndjson(numberedEvents(3))}\n{"payload": nope}`;
    expect(await refused(await post(running.url, broken, 'application/x-ndjson'), 400)).toMatchObject({
      line: 4,
      error: expect.stringMatching(/^line 4 is not valid JSON/),
    });
  });

  it('missing payload, both payloads, unknown fields, bad base64, not an object: 400 each', async () => {
    const cases: [unknown, string][] = [
      [{ key: 'a' }, 'payload'],
      [{ payload: 1, payloadBase64: 'AA==' }, 'payload'],
      [{ payload: 1, pay1oad: 2 }, 'pay1oad'],
      [{ payloadBase64: 'not base64!' }, 'payloadBase64'],
      [{ payload: 1, id: '' }, 'id'],
    ];
    for (const [event, field] of cases) {
      expect(await refused(await post(running.url, JSON.stringify([event])), 400), JSON.stringify(event)).toMatchObject({
        index: 0,
        field,
      });
    }
    expect((await refused(await post(running.url, '[1]'), 400)).error).toMatch(/event \[0\]: expected an object/);
    expect((await refused(await post(running.url, '[]'), 400)).error).toBe('the body holds no event');
  });

  it('invalid UTF-8: 400 (naming the line for NDJSON)', async () => {
    const line2 = Buffer.concat([Buffer.from('{"payload":1}\n{"payload":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
    expect(await refused(await post(running.url, line2, 'application/x-ndjson'), 400)).toMatchObject({
      error: 'line 2 is not valid UTF-8',
    });
    const json = Buffer.concat([Buffer.from('{"payload":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(await refused(await post(running.url, json), 400)).toMatchObject({ error: 'the body is not valid UTF-8' });
  });

  it('a 10 MB line: 413 (broker.http.maxBodyBytes, 4 MiB by default)', async () => {
    const line = JSON.stringify({ payload: 'x'.repeat(10 * 1024 * 1024) });
    const body = await refused(await post(running.url, line, 'application/x-ndjson'), 413);
    expect(body.error).toMatch(/maxBodyBytes/);
  });

  it('a 100k-event batch: 413 over maxEventsPerRequest (10,000 by default), nothing taken', async () => {
    const body = await refused(await post(running.url, JSON.stringify(numberedEvents(100_000))), 413);
    expect(body.error).toBe('100000 events in one request; at most 10000 (broker.http.maxEventsPerRequest)');
    const lines = ndjson(numberedEvents(10_001));
    expect(await refused(await post(running.url, lines, 'application/x-ndjson'), 413)).toMatchObject({ line: 10_001 });
  });

  it('wrong content type 415, wrong path 404, wrong method 405', async () => {
    await refused(await post(running.url, '{"payload":1}', 'text/plain'), 415);
    await refused(await post(running.url.replace('/v1/events', '/events'), '{"payload":1}'), 404);
    const get = await fetch(running.url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});

describe('HTTP source: a 100k-event batch within a raised limit', () => {
  it('is taken whole and processed (maxEventsPerRequest 100,000, maxBodyBytes 16 MiB)', async () => {
    const running = await startHttpSluice({ maxEventsPerRequest: 100_000, maxBodyBytes: 16 * 1024 * 1024 });
    try {
      const response = await post(running.url, ndjson(numberedEvents(100_000)), 'application/x-ndjson');
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ events: 100_000, processed: 100_000 });
      expect(running.handled).toHaveLength(100_000);
    } finally {
      await running.stop();
    }
  });
});
