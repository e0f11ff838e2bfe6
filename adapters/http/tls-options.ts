import { readFileSync } from 'node:fs';
import type { ServerOptions } from 'node:https';
import { ConfigError } from '../../src/errors.ts';
import type { HttpConfig } from './config.ts';

/**
 * The HTTPS server options of `broker.http.tls`, or null for plain HTTP. Files are read here, at
 * start (and by `sluice config check`), so that a missing or unreadable file is a ConfigError
 * naming its key rather than a failed handshake later.
 */
export function tlsOptions(tls: HttpConfig['tls']): ServerOptions | null {
  const key = 'broker.http.tls';
  if (tls.certFile === undefined && tls.keyFile === undefined) {
    if (tls.clientCaFile !== undefined || tls.requireClientCert) {
      throw new ConfigError(`${key}.clientCaFile`, 'client certificates (mTLS) need TLS: set certFile and keyFile');
    }
    return null;
  }
  if (tls.certFile === undefined) throw new ConfigError(`${key}.certFile`, 'keyFile is set but certFile is not');
  if (tls.keyFile === undefined) throw new ConfigError(`${key}.keyFile`, 'certFile is set but keyFile is not');
  if (tls.requireClientCert && tls.clientCaFile === undefined) {
    throw new ConfigError(`${key}.requireClientCert`, 'requiring client certificates needs clientCaFile (the CA they must chain to)');
  }
  const options: ServerOptions = { cert: read(tls.certFile, `${key}.certFile`), key: read(tls.keyFile, `${key}.keyFile`) };
  if (tls.clientCaFile !== undefined) {
    options.ca = read(tls.clientCaFile, `${key}.clientCaFile`);
    // Ask for a certificate; refuse the handshake without a valid one only when required.
    options.requestCert = true;
    options.rejectUnauthorized = tls.requireClientCert;
  }
  return options;
}

function read(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ConfigError(key, `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
