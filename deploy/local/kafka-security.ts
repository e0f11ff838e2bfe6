// The local Kafka's secured listener (SASL_SSL, SCRAM-SHA-512): a throwaway CA, a server
// certificate it signs for 127.0.0.1/localhost, and one SCRAM user with a random password.
//
// Generated with openssl once per machine into the per-user cache (kafka-sasl/), not into a
// checkout's .sluice/brokers/: the running broker is shared by every checkout on the machine
// (the first `brokers:up` starts it, the others reuse it), so every checkout's tests must find
// the CA and the password it was started with. Nothing here is ever committed: the cache is
// outside the repository, and the key files are readable by their owner only.
import { spawnSync } from 'node:child_process';
import { pbkdf2Sync, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PrerequisiteMissing } from './kafka-dist.ts';
import { cacheDir } from './paths.ts';

/** The SCRAM user of the local stack (its password is random, see `password`). */
export const KAFKA_SASL_USERNAME = 'sluice';
export const KAFKA_SASL_MECHANISM = 'scram-sha-512';
/** Kafka's minimum for SCRAM-SHA-512 is 4096; 8192 is what kafka-configs uses by default. */
const SCRAM_ITERATIONS = 8192;

export const kafkaSecurityDir = join(cacheDir, 'kafka-sasl');

export interface KafkaSecurity {
  /** PEM of the CA that signed the broker's certificate: what a client trusts (`ssl.ca`). */
  caFile: string;
  /** Private key (PKCS#8, unencrypted) and certificate of the broker, one PEM file, for `ssl.keystore.type=PEM`. */
  keystoreFile: string;
  username: string;
  password: string;
}

const files = (dir: string) => ({
  ca: join(dir, 'ca.pem'),
  caKey: join(dir, 'ca.key'),
  keystore: join(dir, 'broker-keystore.pem'),
  password: join(dir, 'scram-password'),
});

/** The CA, keystore and password if a previous run generated them (and the certificate is still valid); never generates. */
export function readKafkaSecurity(dir = kafkaSecurityDir): KafkaSecurity | undefined {
  const f = files(dir);
  if (![f.ca, f.keystore, f.password].every((file) => existsSync(file))) return undefined;
  try {
    const certificate = new X509Certificate(readFileSync(f.keystore));
    // A day's margin: a broker started now keeps running with this certificate for a while.
    if (Date.parse(certificate.validTo) < Date.now() + 86_400_000) return undefined;
    return { caFile: f.ca, keystoreFile: f.keystore, username: KAFKA_SASL_USERNAME, password: readFileSync(f.password, 'utf8').trim() };
  } catch {
    return undefined;
  }
}

function openssl(args: string[], cwd: string): void {
  const out = spawnSync('openssl', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (out.error && (out.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new PrerequisiteMissing(
      '`openssl` is not on PATH: the local Kafka needs it once to generate its TLS certificates (Debian: apt-get install openssl)',
    );
  }
  if (out.status !== 0)
    throw new Error(`openssl ${args[0]} failed (exit ${out.status ?? out.signal}): ${out.stderr || out.error?.message}`);
}

/**
 * The CA, the broker's certificate and the SCRAM password, generated on first use. Safe against
 * concurrent runs: generated in a private folder and renamed into place; the loser of a race
 * uses the winner's.
 */
export function ensureKafkaSecurity(log: (msg: string) => void, dir = kafkaSecurityDir): KafkaSecurity {
  const existing = readKafkaSecurity(dir);
  if (existing) return existing;
  const staging = `${dir}.${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const f = files(staging);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-noenc'];
  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      f.caKey,
      '-out',
      f.ca,
      '-days',
      '3650',
      '-subj',
      '/CN=Sluice local Kafka CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    staging,
  );
  const key = join(staging, 'broker.key');
  const csr = join(staging, 'broker.csr');
  const cert = join(staging, 'broker.pem');
  const extensions = join(staging, 'broker.ext');
  writeFileSync(
    extensions,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n',
  );
  openssl(['req', ...ec, '-keyout', key, '-out', csr, '-subj', '/CN=127.0.0.1'], staging);
  openssl(
    ['x509', '-req', '-in', csr, '-CA', f.ca, '-CAkey', f.caKey, '-CAcreateserial', '-out', cert, '-days', '3650', '-extfile', extensions],
    staging,
  );
  // Kafka's PEM keystore: the PKCS#8 key, then the certificate chain (leaf, then CA).
  writeFileSync(f.keystore, readFileSync(key, 'utf8') + readFileSync(cert, 'utf8') + readFileSync(f.ca, 'utf8'), { mode: 0o600 });
  writeFileSync(f.password, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  for (const file of [key, csr, extensions, join(staging, 'ca.srl')]) rmSync(file, { force: true });
  chmodSync(f.caKey, 0o600);
  // Checked again just before: another run may have put its complete set in place meanwhile.
  if (!readKafkaSecurity(dir)) {
    rmSync(dir, { recursive: true, force: true }); // an expired or partial set
    try {
      renameSync(staging, dir);
      log(`kafka: generated a CA, the broker's TLS certificate and the SCRAM password of user ${KAFKA_SASL_USERNAME} in ${dir}`);
    } catch {
      // another run renamed its set first: use that one
    }
  }
  rmSync(staging, { recursive: true, force: true });
  const ready = readKafkaSecurity(dir);
  if (!ready) throw new Error(`kafka: the TLS and SCRAM files in ${dir} are incomplete`);
  return ready;
}

/**
 * The SCRAM credential as `kafka-storage format --add-scram` takes it: salt and salted password
 * (RFC 5802's Hi(), i.e. PBKDF2 with HMAC-SHA-512) rather than the password itself, so the
 * password never appears on a command line.
 */
export function scramCredentialArgument(security: KafkaSecurity): string {
  const salt = randomBytes(32);
  const salted = pbkdf2Sync(security.password, salt, SCRAM_ITERATIONS, 64, 'sha512');
  return `SCRAM-SHA-512=[name=${security.username},iterations=${SCRAM_ITERATIONS},salt="${salt.toString('base64')}",saltedpassword="${salted.toString('base64')}"]`;
}
