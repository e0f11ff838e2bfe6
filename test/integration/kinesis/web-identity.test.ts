// What IRSA (EKS IAM roles for service accounts) gives a pod: AWS_ROLE_ARN and
// AWS_WEB_IDENTITY_TOKEN_FILE, and no keys. With no `credentials` in its config, Sluice must take
// credentials from the SDK's default chain: read the token, call STS AssumeRoleWithWebIdentity,
// and sign every Kinesis call with the temporary keys it returns.
//
// Proved here against a real `sluice run` child process and kinesalite: STS is a local HTTP
// endpoint (AWS_ENDPOINT_URL_STS, which the SDK honours like any configured endpoint) that checks
// the request carries the token file's contents and the role, and answers with temporary keys; a
// recording proxy in front of kinesalite shows each Kinesis request signed with exactly those keys
// (SigV4 Credential and X-Amz-Security-Token). What is not proved: that AWS's real STS accepts an
// EKS token (that is AWS's side), and the EKS Pod Identity agent path (AWS_CONTAINER_CREDENTIALS_FULL_URI),
// which the same default chain covers.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { SLUICE_CLI } from '../../sluice-cli.ts';
import { describeWithBroker } from '../brokers.ts';
import { adapterFor, freshStream, localConfig } from './helpers.ts';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/sluice-ingest';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.sluice-web-identity-test-token.sig';
const ACCESS_KEY = 'ASIASLUICEWEBIDENTITY';
const SESSION_TOKEN = 'FwoGZXIvYXdzEBSluiceSessionToken';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describeWithBroker('kinesis', 'kinesis credentials from the SDK default chain (IRSA web identity)', (kinesis) => {
  let dir: string;
  let child: ChildProcess | undefined;
  const servers: Server[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-web-identity-'));
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const server of servers) server.close();
    for (const cleanup of cleanups) await cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('assumes the role with the token file and signs every Kinesis call with the temporary keys', async () => {
    const { config, cleanup } = await freshStream(localConfig({ kinesis }), 2);
    cleanups.push(cleanup);

    const stsCalls: URLSearchParams[] = [];
    const sts = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => {
        const params = new URLSearchParams(body);
        stsCalls.push(params);
        const ok = params.get('Action') === 'AssumeRoleWithWebIdentity' && params.get('WebIdentityToken') === TOKEN;
        res.writeHead(ok ? 200 : 403, { 'content-type': 'text/xml' });
        const expiration = new Date(Date.now() + 3_600_000).toISOString();
        res.end(
          ok
            ? `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>${ACCESS_KEY}</AccessKeyId><SecretAccessKey>sluice-secret</SecretAccessKey><SessionToken>${SESSION_TOKEN}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>${ROLE_ARN}/sluice</Arn><AssumedRoleId>AROA:sluice</AssumedRoleId></AssumedRoleUser></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`
            : '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>bad token</Message></Error></ErrorResponse>',
        );
      });
    });
    servers.push(sts);
    const stsUrl = await listen(sts);

    // Forwards to kinesalite and records how each request was signed.
    const signatures: { credential: string; securityToken: string | undefined }[] = [];
    const target = new URL(kinesis.url);
    const proxy = createServer((req, res) => {
      const authorization = String(req.headers.authorization ?? '');
      signatures.push({
        credential: /Credential=([^/]+)\//.exec(authorization)?.[1] ?? '(unsigned)',
        securityToken: req.headers['x-amz-security-token'] as string | undefined,
      });
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    servers.push(proxy);
    const proxyUrl = await listen(proxy);

    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, TOKEN);
    const out = join(dir, 'processed.txt');
    const handler = join(dir, 'handler.mjs');
    await writeFile(
      handler,
      `import { appendFileSync } from 'node:fs';\nexport default (event) => appendFileSync(${JSON.stringify(out)}, event.payload.toString() + '\\n');\n`,
    );
    const { credentials: _static, ...section } = config;
    const configFile = join(dir, 'config.yaml');
    await writeFile(
      configFile,
      stringify({
        broker: { type: 'kinesis', kinesis: { ...section, endpoint: proxyUrl } },
        handler: { module: handler },
        deadLetter: { type: 'none' },
        metrics: { enabled: false },
      }),
    );

    // The pod's environment under IRSA: no keys, a role and a token file. Nothing else from AWS_*.
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
    Object.assign(env, {
      AWS_ROLE_ARN: ROLE_ARN,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_SESSION_NAME: 'sluice-test',
      AWS_ENDPOINT_URL_STS: stsUrl,
      AWS_REGION: kinesis.region,
      AWS_CONFIG_FILE: join(dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    let stderr = '';
    child = spawn(process.execPath, [...SLUICE_CLI, 'run', '--quiet', '--config', configFile], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));

    const publisher = adapterFor(config).createPublisher();
    cleanups.push(() => publisher.close());
    await publisher.publish(
      config.stream,
      Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, payload: Buffer.from(`e${i}`) })),
    );
    let lines: string[] = [];
    for (const deadline = Date.now() + 60_000; lines.length < 50 && Date.now() < deadline && child.exitCode === null; ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      lines = (await readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    }
    expect(child.exitCode, stderr).toBe(null);
    expect(new Set(lines).size).toBe(50);

    expect(stsCalls.length).toBeGreaterThan(0);
    expect(stsCalls[0]!.get('RoleArn')).toBe(ROLE_ARN);
    expect(stsCalls[0]!.get('RoleSessionName')).toBe('sluice-test');
    expect(signatures.length).toBeGreaterThan(0);
    expect(signatures.every((s) => s.credential === ACCESS_KEY && s.securityToken === SESSION_TOKEN)).toBe(true);

    child.kill('SIGTERM');
    await new Promise((resolve) => child!.once('exit', resolve));
  });
});
