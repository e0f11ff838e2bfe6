import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  readonly dir: string;
  readonly ca: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A client certificate signed by another CA: refused under mTLS. */
  readonly rogueCert: string;
  readonly rogueKey: string;
}

function openssl(args: string[], cwd: string): void {
  const out = spawnSync('openssl', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (out.status !== 0)
    throw new Error(`openssl ${args[0]} failed (exit ${out.status ?? out.signal}): ${out.stderr || out.error?.message}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc'];

function ca(dir: string, name: string): void {
  openssl(
    ['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=Sluice test ${name}`].concat([
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]),
    dir,
  );
}

function leaf(dir: string, name: string, signer: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), `${extensions}\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n`);
  openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${signer}.pem`,
      '-CAkey',
      `${signer}.key`,
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
    ].concat(['-days', '2', '-extfile', `${name}.ext`]),
    dir,
  );
}

/** A CA, a server certificate for 127.0.0.1, a client certificate, and a rogue one, in a fresh temp dir (as deploy/local/kafka-security.ts makes Kafka's). */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-http-tls-'));
  ca(dir, 'ca');
  ca(dir, 'rogue-ca');
  leaf(dir, 'server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  leaf(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth');
  leaf(dir, 'rogue', 'rogue-ca', 'extendedKeyUsage=clientAuth');
  const at = (file: string) => join(dir, file);
  return {
    dir,
    ca: at('ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    clientCert: at('client.pem'),
    clientKey: at('client.key'),
    rogueCert: at('rogue.pem'),
    rogueKey: at('rogue.key'),
  };
}
