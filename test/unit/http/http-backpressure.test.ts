import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers.ts';
import { numberedEvents, payloadNumbers, post, type RunningHttpSluice, startHttpSluice } from './http-helpers.ts';

let running: RunningHttpSluice | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** A handler that holds every event until release() (a slow handler, made deterministic). */
function gate() {
  let release!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  return { handler: () => opened, release };
}

/** Sends raw bytes and returns the first response's status line and headers (for clients fetch cannot be). */
function rawRequest(port: number, head: string, writes: { data: string; afterMs: number }[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const timers: NodeJS.Timeout[] = [];
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => {
      for (const timer of timers) clearTimeout(timer);
      resolve(received);
    });
    // A server that answered and closed while the client still writes resets the connection: the answer counts.
    socket.on('error', (error) => (received ? resolve(received) : reject(error)));
    socket.write(head);
    for (const { data, afterMs } of writes) timers.push(setTimeout(() => socket.writable && socket.write(data), afterMs));
  });
}

/** A connection that sent one POST of `body` and got its response, left open (keep-alive). */
function heldConnection(port: number, body: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      if (chunk.toString().startsWith('HTTP/1.1 200 ')) resolve(socket);
      else reject(new Error(`unexpected response: ${chunk.toString()}`));
    });
    socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
}

describe('HTTP source: backpressure and slow clients', () => {
  it('a full queue: a request waits maxWaitMs, then 429 with Retry-After, and none of its events is processed', async () => {
    const { handler, release } = gate();
    running = await startHttpSluice(
      { maxWaitMs: 300, retryAfterSeconds: 2 },
      { handler, config: { queue: { maxEvents: 4 }, pool: { size: 1 } } },
    );
    const { url } = running;
    // 5 events: the worker holds the first, the other 4 fill the queue.
    const first = post(url, JSON.stringify(numberedEvents(5)));
    await eventually(() => running!.handled.length === 1, 10_000, 'the first event started');
    // The second waits in the pending delivery, the third behind it in the adapter: both time out.
    const [second, third] = await Promise.all([
      post(url, JSON.stringify(numberedEvents(3, 100))),
      post(url, JSON.stringify(numberedEvents(2, 200))),
    ]);
    for (const response of [second, third]) {
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('2');
      expect((await response.json()) as { error: string }).toMatchObject({
        error: expect.stringMatching(/none of the \d events was taken/),
      });
    }
    release();
    expect((await first).status).toBe(200);
    // Room again: a retried request is taken.
    expect((await post(url, JSON.stringify(numberedEvents(3, 100)))).status).toBe(200);
    expect(payloadNumbers(running.handled).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 100, 101, 102]);
    expect(running.sluice.pipeline.queue.depth).toBe(0);
    const text = await running.registry.metrics();
    expect(text).toMatch(/^sluice_http_requests_total\{broker="http",code="429"\} 2$/m);
    expect(text).toMatch(/^sluice_http_events_total\{broker="http",outcome="rejected"\} 5$/m);
  });

  it('more requests than maxConcurrentRequests: 503 with Retry-After', async () => {
    const { handler, release } = gate();
    running = await startHttpSluice({ maxConcurrentRequests: 1 }, { handler });
    const first = post(running.url, JSON.stringify({ payload: 1 }));
    await eventually(() => running!.handled.length === 1, 10_000, 'the first request in flight');
    const second = await post(running.url, JSON.stringify({ payload: 2 }));
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('1');
    release();
    expect((await first).status).toBe(200);
    expect(running.handled).toHaveLength(1);
  });

  it('more connections than maxConnections: the one over is closed unanswered; served again once one closed', async () => {
    running = await startHttpSluice({ maxConnections: 2 });
    const port = running.port;
    // Two keep-alive connections, each answered once (so the server holds both), then idle.
    const held = await Promise.all([1, 2].map((n) => heldConnection(port, JSON.stringify({ payload: { n } }))));
    const refused = await post(running.url, JSON.stringify({ payload: { n: 3 } })).then(
      (response) => response.status,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(Error); // closed without a response
    expect(await running.registry.getSingleMetricAsString('sluice_http_connections_refused_total')).toMatch(/ [1-9]\d*$/m);
    held[0]!.destroy();
    // The server notices the close a moment later: try until a request is served.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const status = await post(running.url, JSON.stringify({ payload: { n: 4 } })).then(
        (response) => response.status,
        () => undefined,
      );
      if (status === 200) break;
      if (Date.now() > deadline) throw new Error('no request served after a connection closed');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    held[1]!.destroy();
    expect(payloadNumbers(running.handled)).toEqual([1, 2, 4]);
  });

  it('a client trickling its body is cut off after bodyTimeoutMs with 408, and nothing is taken', async () => {
    running = await startHttpSluice({ bodyTimeoutMs: 500 });
    const body = JSON.stringify({ payload: 'slow' });
    const head = `POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    // One byte every 100 ms: the body would take ~2 s.
    const writes = [...body].map((data, i) => ({ data, afterMs: 100 * (i + 1) }));
    const response = await rawRequest(running.port, head, writes);
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(response).toMatch(/bodyTimeoutMs/);
    expect(running.handled).toHaveLength(0);
  });

  it('a client trickling its headers is cut off after headersTimeoutMs', async () => {
    running = await startHttpSluice({ headersTimeoutMs: 500 });
    const writes = Array.from({ length: 40 }, (_, i) => ({ data: `X-Slow-${i}: 1\r\n`, afterMs: 100 * (i + 1) }));
    const response = await rawRequest(running.port, 'POST /v1/events HTTP/1.1\r\nHost: x\r\n', writes);
    // The headers never end: the 408 is Node's headers timeout, which answers and closes.
    expect(response).toMatch(/^HTTP\/1\.1 408 /);
    expect(running.handled).toHaveLength(0);
  });
});
