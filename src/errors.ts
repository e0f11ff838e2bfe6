/**
 * Sluice's errors. Retry logic reads `retriable` instead of matching messages (as kafkajs does).
 * Handlers may throw anything; an error that is not a SluiceError counts as retriable unless it
 * carries `retriable: false`.
 */
export class SluiceError extends Error {
  readonly retriable: boolean;
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.retriable = options.retriable ?? false;
  }
}

/** A configuration value is missing or wrong. `key` is the dotted path, e.g. `queue.maxEvents`. */
export class ConfigError extends SluiceError {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`config ${key}: ${reason}`);
  }
}

/** The broker cannot be reached or refused the connection (retriable: it may come back). */
export class ConnectionError extends SluiceError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: true, cause });
  }
}

/** Credentials were refused. Not retriable: trying again will not help. */
export class AuthenticationError extends SluiceError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
  }
}

/** A topic, stream or subscription Sluice should read or write does not exist. */
export class NotFoundError extends SluiceError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
  }
}

/** The payload could not be decoded. Poison: goes to the dead-letter destination at once. */
export class DecodeError extends SluiceError {
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
  }
}

/** The handler did not finish within `handler.timeout`. */
export class TimeoutError extends SluiceError {
  constructor(ms: number) {
    super(`handler timed out after ${ms} ms`, { retriable: true });
  }
}

/** Whether trying again may help. */
export function isRetriable(error: unknown): boolean {
  if (error instanceof SluiceError) return error.retriable;
  if (error && typeof error === 'object' && 'retriable' in error) {
    return (error as { retriable: unknown }).retriable !== false;
  }
  return true;
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
