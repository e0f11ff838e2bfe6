import { connect, type ConnectionOptions } from 'node:tls';
import { AuthenticationError } from '../../src/errors.ts';
import { connectionOptions } from './client.ts';
import type { KafkaConfig } from './config.ts';
import { TLS_CERTIFICATE_ERROR_CODES, untrustedCertificateMessage } from './protocol-errors.ts';

type Refusal = { broker: string; message: string };

/**
 * One TLS handshake with each bootstrap broker, before the client library connects, so that a
 * broker certificate the config does not trust fails start-up at once with an error naming that
 * broker. Both libraries treat it as a network error and retry it with backoff (5–15 s with the
 * default `retry`), though no wait can make the certificate trusted. Anything else (a broker down,
 * a timeout) is left to the client, which reports and retries it as before.
 */
export async function checkBrokerCertificates(config: KafkaConfig, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!config.ssl || (typeof config.ssl === 'object' && !config.ssl.rejectUnauthorized)) return;
  const ssl = connectionOptions({ ...config, sasl: undefined }, env).ssl;
  const options: ConnectionOptions = typeof ssl === 'object' ? ssl : {};
  const refusals = await Promise.all(config.brokers.map((broker) => handshake(broker, options, config.connectionTimeoutMs)));
  const refused = refusals.find((refusal) => refusal !== undefined);
  if (refused) throw new AuthenticationError(untrustedCertificateMessage(refused.broker, 'TLS handshake', refused.message, config.ssl));
}

function handshake(broker: string, options: ConnectionOptions, timeoutMs: number): Promise<Refusal | undefined> {
  const separator = broker.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({ ...options, host: broker.slice(0, separator), port: Number(broker.slice(separator + 1)) });
    const done = (refusal?: Refusal) => {
      socket.destroy();
      resolve(refusal);
    };
    socket.setTimeout(timeoutMs, () => done());
    socket.once('secureConnect', () => done());
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(error.code && TLS_CERTIFICATE_ERROR_CODES.has(error.code) ? { broker, message: error.message } : undefined),
    );
  });
}
