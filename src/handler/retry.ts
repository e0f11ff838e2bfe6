import { isRetriable } from '../errors.ts';
import { sleep } from '../util/sleep.ts';
import { isPromiseLike, type HandlerWrapper } from './handler.ts';

export interface RetryPolicy {
  /** Tries in all, the first included; 1 means no retry. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
}

/**
 * Backoff before try `attempt + 1`: exponential, capped, with "equal jitter" (half fixed, half
 * random) so that many failing events do not retry in lockstep against a struggling dependency.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = policy.initialBackoffMs * policy.multiplier ** (attempt - 1);
  const capped = Math.min(policy.maxBackoffMs, exponential);
  return capped / 2 + random() * (capped / 2);
}

/**
 * Tries the handler again after a retriable failure, up to `maxAttempts` tries, then throws the
 * last error. `context.attempt` tells the handler (and the processor's metrics) which try this is.
 * `signal` aborts the waits when the pipeline shuts down, so a backoff never holds a shutdown.
 */
export function withRetry(policy: RetryPolicy, signal?: AbortSignal): HandlerWrapper {
  return (next) => (event, context) => {
    const retry = async (error: unknown): Promise<unknown> => {
      for (;;) {
        if (context.attempt >= policy.maxAttempts || !isRetriable(error) || signal?.aborted) throw error;
        await sleep(backoffMs(policy, context.attempt), signal);
        if (signal?.aborted) throw error;
        context.attempt++;
        try {
          return await next(event, context);
        } catch (nextError) {
          error = nextError;
        }
      }
    };
    try {
      const result = next(event, context);
      return isPromiseLike(result) ? Promise.resolve(result).catch(retry) : result;
    } catch (error) {
      return retry(error);
    }
  };
}
