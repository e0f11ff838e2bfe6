// NATS over TLS, against a nats-server of its own started with the local stack's throwaway CA and
// certificate (deploy/local/kafka-security.ts, generated once per machine): Sluice publishes and
// reads with the CA of broker.nats.tls.ca; without it (the system CAs) start-up fails naming the
// certificate; an unreadable TLS file stops `config check` before anything connects, naming its key.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectNats } from '../../../adapters/nats/client.ts';
import { natsConfigSchema } from '../../../adapters/nats/config.ts';
import { ensureKafkaSecurity, type KafkaSecurity, readKafkaSecurity } from '../../../deploy/local/kafka-security.ts';
import { natsServer } from '../../../deploy/local/nats-dist.ts';
import { CollectingSink, eventually } from '../../contract/universal-suite.ts';
import { freePort, spawnSluice } from '../../sluice-cli.ts';
import { describeWithNats, natsTestAdapter, natsTestConfig } from './helpers.ts';

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    }).on('error', () => resolve(false));
  });

describeWithNats('nats over TLS', (endpoint) => {
  let server: ChildProcess;
  let dir: string;
  let security: KafkaSecurity;
  let servers: string[];

  beforeAll(async () => {
    security = readKafkaSecurity() ?? ensureKafkaSecurity(() => undefined);
    const { binary } = await natsServer();
    const port = await freePort();
    dir = await mkdtemp(join(tmpdir(), 'sluice-nats-tls-'));
    // The keystore holds the key and the certificate (signed for 127.0.0.1) in one PEM file.
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'js'), '--tls'];
    server = spawn(binary, [...args, '--tlscert', security.keystoreFile, '--tlskey', security.keystoreFile], { stdio: 'ignore' });
    servers = [`127.0.0.1:${port}`];
    for (const until = Date.now() + 30_000; !(await listening(port)); ) {
      if (Date.now() > until || server.exitCode !== null) throw new Error(`the TLS nats-server did not listen on ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 60_000);

  afterAll(async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes and reads over TLS, trusting the CA of broker.nats.tls.ca', async () => {
    const config = natsTestConfig({ ...endpoint, servers }, { tls: { ca: security.caFile } });
    const adapter = natsTestAdapter(config);
    const publisher = adapter.createPublisher();
    await publisher.connect();
    const source = adapter.createSource();
    const sink = new CollectingSink(10);
    try {
      await source.start(sink);
      await publisher.publish(config.stream, [{ key: 'k', payload: Buffer.from('over tls') }]);
      await eventually(() => sink.events.length >= 1, 20_000, 'the event');
      expect(sink.events[0]!.payload.toString()).toBe('over tls');
      sink.events[0]!.ack();
    } finally {
      await source.close();
      await publisher.close();
    }
  });

  it('refuses a server whose certificate the system CAs do not trust (tls: true), naming it', async () => {
    const config = natsConfigSchema.parse({ servers, tls: true, connectTimeoutMs: 3_000 });
    await expect(connectNats(config, 'tls-test')).rejects.toThrow(
      /cannot connect to NATS at 127\.0\.0\.1:\d+ \(broker\.nats\.servers\): .*certificate/,
    );
  });

  it('stops config check (exit 2) on an unreadable TLS file or an unset password variable, naming each key', async () => {
    const path = join(dir, 'sluice.yaml');
    const missing = join(dir, 'no-such-ca.pem');
    const section = { servers, stream: 's', tls: { ca: missing }, user: 'u', passEnv: 'SLUICE_TEST_UNSET_NATS_PASS' };
    await writeFile(path, JSON.stringify({ broker: { type: 'nats', nats: section } }));
    const cli = spawnSluice(['config', 'check', '--config', path]);
    expect(await cli.exited).toBe(2);
    expect(cli.output.stderr + cli.output.stdout).toContain(`broker.nats.tls.ca: cannot read ${missing}`);
    expect(cli.output.stderr + cli.output.stdout).toContain(
      'broker.nats.passEnv: environment variable SLUICE_TEST_UNSET_NATS_PASS is not set',
    );
  });
});
