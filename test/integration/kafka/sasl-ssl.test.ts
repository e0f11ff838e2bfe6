// Secured Kafka, for real: the local broker's SASL_SSL listener (TLS with the stack's own CA,
// then SCRAM-SHA-512; deploy/local/kafka-security.ts), reached by a `sluice run` child process
// through a config file that names the CA file and the variable holding the password. Per client:
// it consumes and publishes (dead letters) over that listener without the password ever showing
// in its debug logs, its health endpoints or what it prints of its config; a wrong password and
// an untrusted certificate each stop it at start-up with an error naming the broker and what
// failed, and a non-zero exit code.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort, type SluiceProcess, spawnSluice } from '../../sluice-cli.ts';
import { inCI, type KafkaEndpoint, uniqueName } from '../brokers.ts';
import { describeWithKafka, type KafkaTestEndpoint } from './helpers.ts';

/** The variable the configs name in `sasl.passwordEnv` (not the stack's own SLUICE_KAFKA_SASL_PASSWORD). */
const PASSWORD_ENV = 'SLUICE_TEST_KAFKA_SCRAM_PASSWORD';
const EVENTS = 60;
/** Events whose handler throws: after maxAttempts they are published to `<topic>.dlq`. */
const failing = (n: number) => n % 10 === 0;

// Appends each processed event's number to SLUICE_TEST_OUT; throws for the failing ones.
const HANDLER = `
import { appendFileSync } from 'node:fs';
export default async function handle(event) {
  const { n, fail } = JSON.parse(event.payload.toString());
  if (fail) throw new Error('event ' + n + ' is meant to fail');
  appendFileSync(process.env.SLUICE_TEST_OUT, n + '\\n');
}
`;

/** The secured listener of the endpoint; without one, the suite fails in CI and is skipped elsewhere. */
function saslOf(endpoint: KafkaEndpoint, ctx: { skip: (note: string) => void }): NonNullable<KafkaEndpoint['sasl']> {
  if (endpoint.sasl) return endpoint.sasl;
  const reason = `the local Kafka has no usable SASL_SSL listener: ${endpoint.saslUnavailable ?? 'unknown reason'}`;
  if (inCI) throw new Error(reason);
  console.warn(`[skip] kafka SASL_SSL: ${reason}`);
  ctx.skip(reason);
  throw new Error(reason);
}

describeWithKafka('kafka over SASL_SSL (SCRAM-SHA-512, TLS with a local CA)', (endpoint: KafkaTestEndpoint) => {
  let dir: string;
  const running = new Set<SluiceProcess>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-sasl-'));
    await writeFile(join(dir, 'handler.mjs'), HANDLER);
  });
  afterAll(async () => {
    for (const sluice of running) if (sluice.child.exitCode === null) sluice.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  /** A config file for `sluice run` on the SASL_SSL listener; `kafka` overrides the broker section. */
  async function writeConfig(name: string, sasl: NonNullable<KafkaEndpoint['sasl']>, kafka: Record<string, unknown>, port = 0) {
    const path = join(dir, `${name}.yaml`);
    const config = {
      broker: {
        type: 'kafka',
        kafka: {
          brokers: sasl.brokers,
          client: endpoint.client,
          group: uniqueName('sasl-group'),
          ssl: { ca: sasl.caFile },
          sasl: { mechanism: sasl.mechanism, username: sasl.username, passwordEnv: PASSWORD_ENV },
          commitIntervalMs: 200,
          fetch: { maxWaitTimeMs: 100 },
          ...kafka,
        },
      },
      handler: { module: join(dir, 'handler.mjs'), retry: { maxAttempts: 2, initialBackoffMs: 10 } },
      deadLetter: { type: 'broker' },
      metrics: port ? { enabled: true, host: '127.0.0.1', port } : { enabled: false },
      log: { level: 'debug', summaryIntervalMs: 0 },
    };
    await writeFile(path, stringify(config));
    return path;
  }

  /** `sluice run` with only PASSWORD_ENV holding the password (the stack's own variable removed). */
  function run(configPath: string, password: string, out = join(dir, 'unused.txt')): SluiceProcess {
    const sluice = spawnSluice(['run', '--config', configPath], {
      env: { [PASSWORD_ENV]: password, SLUICE_KAFKA_SASL_PASSWORD: '', SLUICE_TEST_OUT: out },
    });
    running.add(sluice);
    return sluice;
  }

  async function exitOf(sluice: SluiceProcess, ms: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
    const code = await Promise.race([sluice.exited, timeout]);
    clearTimeout(timer);
    if (code === 'timeout') {
      sluice.child.kill('SIGKILL');
      throw new Error(`sluice did not exit within ${ms} ms:\n${sluice.output.stderr.slice(-2_000)}`);
    }
    return code;
  }

  const get = async (url: string) => {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: await response.text() };
  };

  it('consumes and publishes dead letters over SASL_SSL; the password shows nowhere', { timeout: 180_000 }, async (ctx) => {
    const sasl = saslOf(endpoint, ctx);
    const topic = uniqueName('sasl');
    const out = join(dir, `${topic}.processed.txt`);
    // Set-up over the plain listener: what is tested is Sluice's side.
    const plain = new Kafka({ clientId: 'sasl-test', brokers: endpoint.brokers, logLevel: logLevel.NOTHING });
    const admin = plain.admin();
    await admin.connect();
    const producer = plain.producer();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      await producer.connect();
      await producer.send({
        topic,
        messages: Array.from({ length: EVENTS }, (_, n) => ({ key: String(n % 7), value: JSON.stringify({ n, fail: failing(n) }) })),
      });

      const port = await freePort();
      const configPath = await writeConfig(topic, sasl, { topics: [topic] }, port);
      const sluice = run(configPath, sasl.password, out);
      const wanted = Array.from({ length: EVENTS }, (_, n) => n).filter((n) => !failing(n));
      const deadLetters = async () =>
        (await admin.fetchTopicOffsets(`${topic}.dlq`).catch(() => [])).reduce((sum, p) => sum + Number(p.high), 0);
      const deadline = Date.now() + 120_000;
      let processed: number[] = [];
      for (;;) {
        processed = (await readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
        if (new Set(processed).size >= wanted.length && (await deadLetters()) >= EVENTS - wanted.length) break;
        if (sluice.child.exitCode !== null) throw new Error(`sluice exited (${sluice.child.exitCode}):\n${sluice.output.stderr}`);
        if (Date.now() > deadline) throw new Error(`timed out: ${new Set(processed).size}/${wanted.length} processed`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect([...new Set(processed)].sort((a, b) => a - b)).toEqual(wanted);
      expect(await deadLetters()).toBe(EVENTS - wanted.length);

      const ready = await get(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      const probes = [ready, await get(`http://127.0.0.1:${port}/healthz`), await get(`http://127.0.0.1:${port}/metrics`)];
      // What `sluice config check` prints of this config.
      const check = spawnSluice(['config', 'check', '--config', configPath], { env: { [PASSWORD_ENV]: sasl.password } });
      expect(await exitOf(check, 60_000)).toBe(0);

      sluice.child.kill('SIGTERM');
      expect(await exitOf(sluice, 60_000)).toBe(0);
      const logs = sluice.output.stdout + sluice.output.stderr;
      expect(logs).toContain('sluice running');
      // kafkajs logs protocol responses at debug (platformatic logs nothing of its own there).
      if (endpoint.client === 'kafkajs') expect(logs, 'debug logging was on').toMatch(/"level":20/);
      for (const text of [logs, ...probes.map((p) => p.body), check.output.stdout + check.output.stderr]) {
        expect(text.includes(sasl.password), 'the password leaked').toBe(false);
      }
    } finally {
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  });

  // The two start-up failures run side by side: each only waits for a child to give up.
  it.concurrent('a wrong password stops start-up with an error naming the broker and the user, exit code 1', {
    timeout: 180_000,
  }, async (ctx) => {
    const { expect } = ctx;
    const sasl = saslOf(endpoint, ctx);
    const wrong = `not-${sasl.password.slice(0, 8)}-at-all`;
    const sluice = run(await writeConfig('wrong-password', sasl, { topics: [uniqueName('sasl-wrong')] }), wrong);
    expect(await exitOf(sluice, 120_000)).toBe(1);
    const logs = sluice.output.stdout + sluice.output.stderr;
    expect(logs).toContain(`brokers ${sasl.address} refused SASL scram-sha-512 as ${sasl.username}`);
    expect(logs).toMatch(/authentication failed/i);
    expect(logs.includes(wrong) || logs.includes(sasl.password), 'a password leaked').toBe(false);
  });

  it.concurrent('an untrusted certificate stops start-up with an error naming the broker and the certificate, exit code 1', {
    timeout: 180_000,
  }, async (ctx) => {
    const { expect } = ctx;
    const sasl = saslOf(endpoint, ctx);
    // `ssl: true` trusts the system CAs only, which never signed the local broker's certificate.
    const sluice = run(await writeConfig('untrusted', sasl, { topics: [uniqueName('sasl-untrusted')], ssl: true }), sasl.password);
    expect(await exitOf(sluice, 120_000)).toBe(1);
    const logs = sluice.output.stdout + sluice.output.stderr;
    expect(logs).toContain(`TLS certificate of brokers ${sasl.address} is not trusted`);
    expect(logs).toMatch(/self-signed certificate in certificate chain/);
    expect(logs.includes(sasl.password), 'the password leaked').toBe(false);
  });
});

describe('kafka SASL_SSL endpoint of the local stack', () => {
  it('is described in the variables brokers:up exports', async () => {
    const { withKafkaSasl, ENDPOINTS } = await import('../../../deploy/local/endpoints.ts');
    const endpoint = withKafkaSasl(ENDPOINTS.kafka, { caFile: '/ca.pem', mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(endpoint.env).toMatchObject({
      SLUICE_KAFKA_SASL_BROKERS: endpoint.sasl!.address,
      SLUICE_KAFKA_SASL_CA: '/ca.pem',
      SLUICE_KAFKA_SASL_USERNAME: 'u',
      SLUICE_KAFKA_SASL_PASSWORD: 'p',
    });
  });
});
