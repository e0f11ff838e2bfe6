import { AuthenticationError, ConnectionError, NotFoundError, SluiceError, errorMessage } from '../../src/errors.ts';

/**
 * How the adapter reacts to an AWS error, decided by its name once (as kafkajs reads
 * `retriable`), not by matching messages at every call site.
 */
export type AwsErrorKind =
  /** Back off and try again: the shard, account or table is over its limits. */
  | 'throttled'
  /** The shard iterator is older than 5 minutes: get a new one from the last delivered record. */
  | 'expired-iterator'
  /** A conditional write lost (lease taken by another instance, lease already exists). */
  | 'conditional'
  | 'not-found'
  | 'in-use'
  | 'auth'
  /** Network, timeouts, 5xx: retriable. */
  | 'transient'
  | 'fatal';

const THROTTLES = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
  'KMSThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

const AUTH = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'AccessDeniedException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'MissingAuthenticationTokenException',
  'CredentialsProviderError',
  'KMSAccessDeniedException',
]);

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

interface AwsLikeError {
  name?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

export function awsErrorKind(error: unknown): AwsErrorKind {
  if (!error || typeof error !== 'object') return 'fatal';
  const e = error as AwsLikeError;
  const name = e.name ?? '';
  if (THROTTLES.has(name)) return 'throttled';
  if (name === 'ExpiredIteratorException') return 'expired-iterator';
  if (name === 'ConditionalCheckFailedException') return 'conditional';
  if (name === 'ResourceNotFoundException') return 'not-found';
  if (name === 'ResourceInUseException') return 'in-use';
  if (AUTH.has(name)) return 'auth';
  if (name === 'TimeoutError' || name === 'AbortError' || name === 'RequestTimeout') return 'transient';
  if (e.code && TRANSIENT_CODES.has(e.code)) return 'transient';
  if (e.$fault === 'server' || (e.$metadata?.httpStatusCode ?? 0) >= 500) return 'transient';
  if (name === 'InternalFailureException' || name === 'ServiceUnavailable' || name === 'InternalServerError') return 'transient';
  // Errors without AWS metadata are network failures from the HTTP handler.
  if (!e.$metadata && !e.$fault) return 'transient';
  return 'fatal';
}

/** A Sluice error (with `retriable`) for an AWS error, naming what was being done. */
export function toSluiceError(error: unknown, what: string): SluiceError {
  if (error instanceof SluiceError) return error;
  const message = `${what}: ${errorMessage(error)}`;
  switch (awsErrorKind(error)) {
    case 'not-found':
      return new NotFoundError(message, error);
    case 'auth':
      return new AuthenticationError(message, error);
    case 'transient':
      return new ConnectionError(message, error);
    case 'throttled':
    case 'expired-iterator':
    case 'conditional':
    case 'in-use':
      return new SluiceError(message, { retriable: true, cause: error });
    default:
      return new SluiceError(message, { retriable: false, cause: error });
  }
}

/**
 * Tells a failure that retrying cannot fix (stream deleted, credentials refused) from a blip:
 * `failed()` turns true once such failures have lasted `limitMs` without a success between.
 * Throttling and network errors never count: they pass.
 */
export class PersistentFailure {
  private since: number | undefined;

  constructor(private readonly limitMs: number) {}

  failed(kind: AwsErrorKind): boolean {
    if (this.limitMs <= 0 || (kind !== 'not-found' && kind !== 'auth' && kind !== 'fatal')) {
      this.since = undefined;
      return false;
    }
    this.since ??= Date.now();
    return Date.now() - this.since >= this.limitMs;
  }

  succeeded(): void {
    this.since = undefined;
  }
}
