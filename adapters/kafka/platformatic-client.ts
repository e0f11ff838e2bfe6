import type { BaseOptions, SASLOptions } from '@platformatic/kafka';
import { AuthenticationError, ConnectionError, NotFoundError, SluiceError } from '../../src/errors.ts';
import type { connectionOptions } from './client.ts';
import type { KafkaConfig } from './config.ts';
import { AUTH_ERROR_NAMES, TLS_CERTIFICATE_ERROR_CODES, untrustedCertificateMessage } from './protocol-errors.ts';

/**
 * @platformatic/kafka client options from the config: the same brokers, timeouts, retries, TLS
 * and SASL as the kafkajs clients get (the files and secrets read once by connectionOptions).
 */
export function platformaticOptions(
  config: KafkaConfig,
  role: string,
  connection: ReturnType<typeof connectionOptions>,
): BaseOptions & { tls?: object; sasl?: SASLOptions } {
  const { initialRetryTimeMs, maxRetryTimeMs, retries } = config.retry;
  const options: BaseOptions & { tls?: object; sasl?: SASLOptions; tlsServerName?: string } = {
    clientId: `${config.clientId}-${role}`,
    bootstrapBrokers: config.brokers,
    connectTimeout: config.connectionTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    timeout: config.requestTimeoutMs,
    retries,
    // The library retries a refused password or an untrusted certificate like a network error
    // (its AuthenticationError arrives wrapped in a retriable NetworkError); waiting cannot fix
    // either, so those tries go out at once and start-up fails within a second or two.
    retryDelay: (_client, _operation, attempt, _retries, error) =>
      cannotHeal(error) ? 0 : Math.min(maxRetryTimeMs, initialRetryTimeMs * 2 ** Math.max(0, attempt - 1)),
  };
  if (connection.ssl === true) options.tls = {};
  else if (connection.ssl) {
    const { servername, ...tls } = connection.ssl as { servername?: string } & Record<string, unknown>;
    options.tls = tls;
    if (servername) options.tlsServerName = servername;
  }
  const sasl = connection.sasl as { mechanism: string; username: string; password: string } | undefined;
  if (sasl)
    options.sasl = {
      mechanism: sasl.mechanism.toUpperCase() as SASLOptions['mechanism'],
      username: sasl.username,
      password: sasl.password,
    };
  return options;
}

type Cause = { code?: string; apiId?: string; message?: string; canRetry?: boolean; errors?: unknown[]; cause?: unknown };

/** The error and every error nested in it (MultipleErrors' `errors`, `cause`), depth first. */
function flatten(error: unknown, into: Cause[] = [], depth = 0): Cause[] {
  if (!error || typeof error !== 'object' || depth > 8) return into;
  const current = error as Cause;
  into.push(current);
  for (const nested of current.errors ?? []) flatten(nested, into, depth + 1);
  flatten(current.cause, into, depth + 1);
  return into;
}

/** A refused SASL authentication or an untrusted broker certificate somewhere in the error. */
function cannotHeal(error: unknown): boolean {
  return flatten(error).some(
    (cause) => cause.code === 'PLT_KFK_AUTHENTICATION' || (cause.code && TLS_CERTIFICATE_ERROR_CODES.has(cause.code)),
  );
}

/** The protocol error ids (`REBALANCE_IN_PROGRESS`…) found in a @platformatic/kafka error. */
export function protocolErrorIds(error: unknown): string[] {
  return flatten(error)
    .map((cause) => cause.apiId)
    .filter((id): id is string => typeof id === 'string');
}

/**
 * Turns a @platformatic/kafka error into a Sluice error whose message names the brokers and
 * says what to check, as toSluiceError does for kafkajs.
 */
export function platformaticError(error: unknown, config: Pick<KafkaConfig, 'brokers' | 'sasl' | 'ssl'>, what: string): SluiceError {
  if (error instanceof SluiceError) return error;
  const brokers = config.brokers.join(',');
  const all = flatten(error);
  const deepest = [...all].reverse().find((cause) => cause.message && !cause.errors) ?? all[0];
  const detail = all
    .map((cause) => cause.message)
    .filter((message, index, list) => message && list.indexOf(message) === index)
    .join(': ');
  const ids = new Set(protocolErrorIds(error));
  const certificate = all.find((cause) => cause.code && TLS_CERTIFICATE_ERROR_CODES.has(cause.code));
  if (certificate)
    return new AuthenticationError(untrustedCertificateMessage(brokers, what, certificate.message ?? detail, config.ssl), error);
  if (all.some((cause) => cause.code === 'PLT_KFK_AUTHENTICATION') || [...ids].some((id) => AUTH_ERROR_NAMES.has(id))) {
    const who = config.sasl ? `SASL ${config.sasl.mechanism} as ${config.sasl.username}` : 'no SASL';
    const hint =
      ids.has('ILLEGAL_SASL_STATE') || ids.has('UNSUPPORTED_SASL_MECHANISM')
        ? ' (does the listener at these brokers accept this SASL mechanism? A PLAINTEXT listener refuses SASL)'
        : '';
    return new AuthenticationError(`kafka: brokers ${brokers} refused ${who} (${what}): ${detail}${hint}`, error);
  }
  if (ids.has('UNKNOWN_TOPIC_OR_PARTITION') || ids.has('UNKNOWN_TOPIC_ID'))
    return new NotFoundError(`kafka: ${what} at ${brokers}: ${detail}`, error);
  if (all.some((cause) => cause.code === 'PLT_KFK_NETWORK')) {
    const tls = config.ssl ? ' (TLS on: does the listener speak TLS?)' : '';
    return new ConnectionError(`kafka: cannot reach brokers ${brokers} (${what}): ${detail}${tls}`, error);
  }
  return new SluiceError(`kafka: ${what} at ${brokers} failed: ${detail || deepest?.message || String(error)}`, {
    retriable: deepest?.canRetry ?? true,
    cause: error,
  });
}
