import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type logCreator, type SASLOptions } from 'kafkajs';
import type { Logger } from 'pino';
import { AuthenticationError, ConnectionError, NotFoundError, SluiceError } from '../../src/errors.ts';
import { readConfiguredFile, secretFromEnv } from '../../src/config/secrets.ts';
import { withTimeout } from '../../src/util/with-timeout.ts';
import type { KafkaConfig } from './config.ts';
import { AUTH_ERROR_NAMES, TLS_CERTIFICATE_ERROR_CODES, untrustedCertificateMessage } from './protocol-errors.ts';

/**
 * kafkajs logs through our pino logger, at warn and above only (its info level narrates every
 * join and fetch). Its `extra` fields are kept; none of them carries the SASL password. Its
 * `broker` field (the address) is renamed `address`: the logger's own `broker` key names the
 * broker type, and JSON with the key twice is read differently by every log tool.
 *
 * kafkajs logs each failed attempt of a retry loop at error level (a Kafka that cannot be reached
 * gave 12 error lines before Sluice's own message), and the failure those attempts end in
 * surfaces as an error Sluice handles and reports once, clearly: start-up fails naming the
 * brokers, a consumer crash logs "kafka consumer failed", a send rejects to its caller. So the
 * attempts themselves (entries with retryCount / retryTime, connection errors, the crash notice)
 * go to debug, where they still are when someone wants the detail.
 */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const {
        message,
        timestamp: _timestamp,
        logger: _name,
        broker: address,
        ...extra
      } = log as { message: string; timestamp?: string; logger?: string; broker?: string };
      const fields = { kafkajs: namespace, ...(address === undefined ? {} : { address }), ...extra };
      if (isRetryChatter(namespace, message, extra)) logger.debug(fields, message);
      else if (namespace === 'Runner' && message.startsWith('The group is rebalancing')) logger.info(fields, message);
      else if (level === logLevel.ERROR) logger.error(fields, message);
      else if (level === logLevel.WARN) logger.warn(fields, message);
    };
}

/**
 * An attempt kafkajs will retry, or the notice of a failure Sluice reports itself: every error
 * response of the protocol (rebalance notices included), every connection error, each attempt of
 * a retry loop, and the consumer's crash and restart notices (Sluice logs the CRASH event).
 */
function isRetryChatter(namespace: string, message: string, extra: Record<string, unknown>): boolean {
  if (namespace === 'Connection' || namespace === 'BrokerPool') return true;
  if ('retryCount' in extra || 'retryTime' in extra) return true;
  return namespace === 'Consumer' && (message.startsWith('Crash: ') || message.startsWith('Restarting the consumer'));
}

/** Reads the files and the secret environment variables the config names, once, at creation. */
export function connectionOptions(config: KafkaConfig, env: NodeJS.ProcessEnv = process.env): Pick<KafkaJsConfig, 'ssl' | 'sasl'> {
  const options: Pick<KafkaJsConfig, 'ssl' | 'sasl'> = {};
  if (config.ssl === true) options.ssl = true;
  else if (config.ssl) {
    const ssl = config.ssl;
    const read = (key: 'ca' | 'cert' | 'key') => {
      const path = ssl[key];
      return path ? readConfiguredFile(`broker.kafka.ssl.${key}`, path) : undefined;
    };
    const passphrase = ssl.passphraseEnv ? secretFromEnv(env, ssl.passphraseEnv, 'broker.kafka.ssl.passphraseEnv') : undefined;
    options.ssl = {
      rejectUnauthorized: ssl.rejectUnauthorized,
      ...(ssl.ca ? { ca: [read('ca')!] } : {}),
      ...(ssl.cert ? { cert: read('cert') } : {}),
      ...(ssl.key ? { key: read('key') } : {}),
      ...(passphrase ? { passphrase } : {}),
      ...(ssl.servername ? { servername: ssl.servername } : {}),
    };
  }
  if (config.sasl) {
    const password = secretFromEnv(env, config.sasl.passwordEnv, 'broker.kafka.sasl.passwordEnv');
    options.sasl = { mechanism: config.sasl.mechanism, username: config.sasl.username, password } as SASLOptions;
  }
  return options;
}

/** One kafkajs client per source / publisher / admin, so that each has its own connections. */
export function createKafka(config: KafkaConfig, logger: Logger, role: string, options = connectionOptions(config)): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ...options,
    connectionTimeout: config.connectionTimeoutMs,
    authenticationTimeout: config.authenticationTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    retry: { retries: config.retry.retries, initialRetryTime: config.retry.initialRetryTimeMs, maxRetryTime: config.retry.maxRetryTimeMs },
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(logger.child({ kafkaClient: role })),
  });
}

/** The innermost cause of a kafkajs error (retry wrappers nest the real one). */
function rootCause(error: unknown): { name?: string; message?: string; type?: string; retriable?: boolean; code?: string } {
  let current = error as { cause?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; depth < 10 && current; depth++) {
    const next = current.cause ?? current.originalError;
    if (!next || typeof next !== 'object') break;
    current = next as typeof current;
  }
  return (current ?? {}) as { name?: string; message?: string; type?: string; code?: string };
}

const CONNECTION_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
]);

/**
 * Turns a kafkajs error into a Sluice error whose message names the brokers and says what to
 * check. `what` is the operation ("connect", "join group g").
 */
export function toSluiceError(error: unknown, config: Pick<KafkaConfig, 'brokers' | 'sasl' | 'ssl'>, what: string): SluiceError {
  if (error instanceof SluiceError) return error;
  const brokers = config.brokers.join(',');
  const outer = error as { name?: string; message?: string; type?: string; retriable?: boolean };
  const cause = rootCause(error);
  const type = outer.type ?? cause.type;
  const detail = cause.message ?? outer.message ?? String(error);
  if (
    outer.name === 'KafkaJSSASLAuthenticationError' ||
    cause.name === 'KafkaJSSASLAuthenticationError' ||
    (type && AUTH_ERROR_NAMES.has(type))
  ) {
    const who = config.sasl ? `SASL ${config.sasl.mechanism} as ${config.sasl.username}` : 'no SASL';
    const hint =
      type === 'ILLEGAL_SASL_STATE' || type === 'UNSUPPORTED_SASL_MECHANISM'
        ? ' (does the listener at these brokers accept this SASL mechanism? A PLAINTEXT listener refuses SASL)'
        : '';
    return new AuthenticationError(`kafka: brokers ${brokers} refused ${who} (${what}): ${detail}${hint}`, error);
  }
  // kafkajs' ConnectionError carries Node's TLS error code.
  const code = (outer as { code?: string }).code ?? cause.code;
  if (code && TLS_CERTIFICATE_ERROR_CODES.has(code)) {
    return new AuthenticationError(untrustedCertificateMessage(brokers, what, detail, config.ssl), error);
  }
  if (type === 'UNKNOWN_TOPIC_OR_PARTITION') return new NotFoundError(`kafka: ${what} at ${brokers}: ${detail}`, error);
  if (CONNECTION_ERRORS.has(outer.name ?? '') || CONNECTION_ERRORS.has(cause.name ?? '')) {
    const tls = config.ssl ? ' (TLS on: does the listener speak TLS?)' : '';
    return new ConnectionError(`kafka: cannot reach brokers ${brokers} (${what}): ${detail}${tls}`, error);
  }
  if (outer.name === 'KafkaJSRequestTimeoutError' || cause.name === 'KafkaJSRequestTimeoutError') {
    return new ConnectionError(`kafka: ${what} at ${brokers} timed out: ${detail}`, error);
  }
  return new SluiceError(`kafka: ${what} at ${brokers} failed: ${detail}`, {
    retriable: outer.retriable ?? cause.retriable ?? true,
    cause: error,
  });
}

/** Rejects with a ConnectionError if `promise` takes longer than `ms` (the kit's timeout helper). */
export function within<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  return withTimeout(promise, ms, () => new ConnectionError(message()));
}

/** Kafka topic names are [a-zA-Z0-9._-]+, so `/` separates topic and partition unambiguously. */
export const partitionKey = (topic: string, partition: number): string => `${topic}/${partition}`;
