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
