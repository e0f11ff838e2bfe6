import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers.ts';
import { numberedEvents, post, startHttpSluice } from './http-helpers.ts';

function gate() {
  let release!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  return { handler: () => opened, release };
}

describe('HTTP source: graceful stop', () => {
  it('closes the listener, answers requests not yet queued with 503, and lets queued ones finish (200)', async () => {
    const { handler, release } = gate();
    const running = await startHttpSluice(
      { maxWaitMs: 60_000 },
      { handler, config: { queue: { maxEvents: 2 }, pool: { size: 1 }, shutdown: { timeoutMs: 30_000 } } },
    );
    const { url } = running;
    const queued = post(url, JSON.stringify(numberedEvents(3)));
    await eventually(() => running.handled.length === 1, 10_000, 'the first event started');
    const waiting = post(url, JSON.stringify(numberedEvents(2, 10)));
    await eventually(() => running.sluice.pipeline.queue.blocked, 10_000, 'the second request waiting for room');
    expect(running.sluice.pipeline.health().ready).toBe(true);

    const stopped = running.stop();
    const refused = await waiting;
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('connection')).toBe('close');
    // The listener is closed: a new connection is refused.
    await expect(post(url, JSON.stringify({ payload: 1 }))).rejects.toThrow();

    release();
    const done = await queued;
    expect(done.status).toBe(200);
    expect(await done.json()).toMatchObject({ events: 3, processed: 3 });
    await stopped;
    expect(running.handled).toHaveLength(3);
    expect(running.sluice.pipeline.source.health()).toEqual({ connected: false, detail: 'closed' });
  });

  it('events still unfinished at the shutdown bound are nacked: their request gets 503 (retry; some may be duplicates)', async () => {
    const { handler, release } = gate();
    const running = await startHttpSluice({}, { handler, config: { pool: { size: 1 }, shutdown: { timeoutMs: 200 } } });
    const pending = post(running.url, JSON.stringify(numberedEvents(3)));
    await eventually(() => running.handled.length === 1, 10_000, 'the first event started');
    await running.stop();
    const response = await pending;
    expect(response.status).toBe(503);
    const body = (await response.json()) as { failed: number[]; error: string };
    expect(body.failed).toEqual([0, 1, 2]);
    expect(body.error).toMatch(/shutting down/);
    release();
  });
});
