// The Kafka adapter's TLS check before connecting (adapters/kafka/certificate-check.ts), against a
// real TLS server on 127.0.0.1 whose certificate the local stack's own generator signs
// (deploy/local/kafka-security.ts, openssl): a trusted CA passes, an untrusted certificate is an
// AuthenticationError naming the broker, and a broker that is down is left to the client.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBrokerCertificates } from '../../adapters/kafka/certificate-check.ts';
import { kafkaConfigSchema } from '../../adapters/kafka/config.ts';
import { ensureKafkaSecurity, type KafkaSecurity } from '../../deploy/local/kafka-security.ts';
import { freePort } from '../sluice-cli.ts';
import { AuthenticationError } from '../../src/errors.ts';

describe('kafka TLS certificate check', () => {
  let dir: string;
  let security: KafkaSecurity;
  let server: Server;
  let broker: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-cert-check-'));
    security = ensureKafkaSecurity(() => undefined, join(dir, 'tls'));
    const pem = readFileSync(security.keystoreFile, 'utf8');
    server = createServer({ key: pem, cert: pem }, (socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    broker = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const config = (ssl: unknown, brokers = [broker]) => kafkaConfigSchema.parse({ brokers, topics: ['t'], ssl });

  it('passes when the configured CA signed the certificate', async () => {
    await expect(checkBrokerCertificates(config({ ca: security.caFile }))).resolves.toBeUndefined();
  });

  it('refuses a certificate the system CAs did not sign, naming the broker and what to set', async () => {
    const error = await checkBrokerCertificates(config(true)).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toContain(`TLS certificate of brokers ${broker} is not trusted`);
    expect((error as Error).message).toContain('broker.kafka.ssl.ca is not set');
  });

  it('is skipped without TLS or with verification off, and leaves a broker that is down to the client', async () => {
    await expect(checkBrokerCertificates(config(false))).resolves.toBeUndefined();
    await expect(checkBrokerCertificates(config({ rejectUnauthorized: false }))).resolves.toBeUndefined();
    await expect(checkBrokerCertificates(config(true, [`127.0.0.1:${await freePort()}`]))).resolves.toBeUndefined();
  });
});
