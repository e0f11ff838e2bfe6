import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { post, type RunningHttpSluice, startHttpSluice } from './http-helpers.ts';
import { makeTestCerts, type TestCerts } from './test-certs.ts';

let running: RunningHttpSluice | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
  delete process.env.SLUICE_TEST_HTTP_TOKENS;
});

const event = JSON.stringify({ payload: { hello: 'world' } });

describe('HTTP source: bearer tokens', () => {
  it('401 without or with a wrong token, 200 with any of the configured tokens; no token in the logs', async () => {
    const [old, current, fromFile] = ['tok-old-5f1a9c', 'tok-current-77be21', 'tok-file-0c93d4'];
    process.env.SLUICE_TEST_HTTP_TOKENS = `${old}, ${current}`;
    const file = `${process.env.TMPDIR ?? '/tmp'}/sluice-http-tokens-${process.pid}`;
    writeFileSync(file, `${fromFile}\n\n`);
    try {
      running = await startHttpSluice({ auth: { tokensEnv: 'SLUICE_TEST_HTTP_TOKENS', tokensFile: file } });
      const { url } = running;
      const missing = await post(url, event);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('www-authenticate')).toBe('Bearer');
      expect((await post(url, event, 'application/json', { authorization: 'Bearer tok-wrong' })).status).toBe(401);
      expect((await post(url, event, 'application/json', { authorization: `Basic ${current}` })).status).toBe(401);
      // A wrong token with a big body is refused without reading it, and the client still sees the 401.
      const big = JSON.stringify({ payload: 'x'.repeat(2_000_000) });
      expect((await post(url, big, 'application/json', { authorization: 'Bearer nope' })).status).toBe(401);
      expect(running.handled).toHaveLength(0);
      for (const token of [old, current, fromFile]) {
        expect((await post(url, event, 'application/json', { authorization: `Bearer ${token}` })).status).toBe(200);
      }
      expect(running.handled).toHaveLength(3);
      await running.stop();
      const logs = running.logs.join('');
      expect(logs).toContain('http source listening');
      for (const token of [old, current, fromFile, 'tok-wrong']) expect(logs).not.toContain(token);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('a token variable that is not set fails start with an error naming the key', async () => {
    await expect(startHttpSluice({ auth: { tokensEnv: 'SLUICE_TEST_HTTP_TOKENS' } })).rejects.toThrow(
      'config broker.http.auth.tokensEnv: environment variable SLUICE_TEST_HTTP_TOKENS is not set or empty',
    );
  });
});

/** POST over HTTPS with a given CA and optional client certificate; the status, or the connection error. */
function tlsPost(url: string, certs: TestCerts, client?: { cert: string; key: string }): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ca: readFileSync(certs.ca),
        ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end(event);
  });
}

describe('HTTP source: TLS and mTLS', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeTestCerts();
  });
  afterAll(() => rmSync(certs.dir, { recursive: true, force: true }));

  it('serves HTTPS with certFile and keyFile', async () => {
    running = await startHttpSluice({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey } });
    expect(running.url).toMatch(/^https:/);
    expect(await tlsPost(running.url, certs)).toBe(200);
    expect(running.handled).toHaveLength(1);
  });

  it('with requireClientCert refuses clients without a certificate of clientCaFile', async () => {
    running = await startHttpSluice({
      tls: { certFile: certs.serverCert, keyFile: certs.serverKey, clientCaFile: certs.ca, requireClientCert: true },
    });
    expect(await tlsPost(running.url, certs, { cert: certs.clientCert, key: certs.clientKey })).toBe(200);
    expect(await tlsPost(running.url, certs)).not.toBe(200);
    expect(await tlsPost(running.url, certs, { cert: certs.rogueCert, key: certs.rogueKey })).not.toBe(200);
    expect(running.handled).toHaveLength(1);
  });

  it('a missing certificate file fails start with an error naming the key', async () => {
    await expect(startHttpSluice({ tls: { certFile: `${certs.dir}/nope.pem`, keyFile: certs.serverKey } })).rejects.toThrow(
      /config broker\.http\.tls\.certFile: cannot read .*nope\.pem: ENOENT/,
    );
  });
});
