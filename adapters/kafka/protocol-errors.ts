/**
 * Kafka protocol error names (as both clients report them) that mean the brokers refused who we
 * are or what we may do: retrying cannot fix them, so they surface as an AuthenticationError.
 */
export const AUTH_ERROR_NAMES: ReadonlySet<string> = new Set([
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'SASL_AUTHENTICATION_FAILED',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
]);

/**
 * Node's codes for a broker certificate that TLS verification rejected. Like a refused password,
 * waiting does not fix it, and "cannot reach the brokers" would send the user looking at the
 * network: both clients report it as an AuthenticationError that says to check `ssl.ca`.
 */
export const TLS_CERTIFICATE_ERROR_CODES: ReadonlySet<string> = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The message of an untrusted broker certificate, the same for both clients. */
export function untrustedCertificateMessage(brokers: string, what: string, detail: string, ssl: unknown): string {
  const trusted =
    ssl && typeof ssl === 'object' && 'ca' in ssl && ssl.ca
      ? `the CA in broker.kafka.ssl.ca (${String(ssl.ca)}) did not sign it`
      : 'only the system CAs are trusted (broker.kafka.ssl.ca is not set)';
  return `kafka: the TLS certificate of brokers ${brokers} is not trusted (${what}): ${detail}; ${trusted}`;
}

/**
 * Protocol errors after which an idempotent producer's state (its producer id and per-partition
 * sequence numbers) no longer matches the brokers', so that every later send fails the same way.
 * Seen after a cut link: a batch whose fate the producer never learned leaves a gap in its
 * sequence, and kafkajs then gets OUT_OF_ORDER_SEQUENCE_NUMBER on every retry, for good (the
 * drill's producer retried for minutes). The cure is a new producer (a new producer id).
 */
export const PRODUCER_STATE_ERROR_NAMES: ReadonlySet<string> = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

/** Whether `error`, or any error it wraps (kafkajs `type`/`cause`, platformatic `apiId`/`errors`), is one of PRODUCER_STATE_ERROR_NAMES. */
export function producerStateLost(error: unknown, depth = 0): boolean {
  if (!error || typeof error !== 'object' || depth > 8) return false;
  const e = error as { type?: unknown; apiId?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown };
  if (typeof e.type === 'string' && PRODUCER_STATE_ERROR_NAMES.has(e.type)) return true;
  if (typeof e.apiId === 'string' && PRODUCER_STATE_ERROR_NAMES.has(e.apiId)) return true;
  if (producerStateLost(e.cause, depth + 1) || producerStateLost(e.originalError, depth + 1)) return true;
  return Array.isArray(e.errors) && e.errors.some((inner) => producerStateLost(inner, depth + 1));
}
