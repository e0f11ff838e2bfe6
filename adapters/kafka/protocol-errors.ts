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
