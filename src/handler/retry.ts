import { isRetriable } from '../errors.ts';
import { backoffMs as backoff } from '../util/backoff.ts';
import { sleep } from '../util/sleep.ts';
import type { SourceEvent } from '../broker/contract.ts';
import { isPromiseLike, type HandlerContext, type HandlerWrapper } from './handler.ts';

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
  return backoff({ initialMs: policy.initialBackoffMs, maxMs: policy.maxBackoffMs, multiplier: policy.multiplier }, attempt, random);
}

/**
 * Tries the handler again after a retriable failure, up to `maxAttempts` tries, then throws the
 * last error. `context.attempt` tells the handler (and the processor's metrics) which try this is.
 * `signal` aborts the waits when the pipeline shuts down, so a backoff never holds a shutdown.
 */
export function withRetry(policy: RetryPolicy, signal?: AbortSignal): HandlerWrapper {
  return (next) => {
    // Runs only after a failure; kept out of the per-event closure so that an event that
    // succeeds at the first try allocates nothing here.
    const retry = async (event: SourceEvent, context: HandlerContext, error: unknown): Promise<unknown> => {
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
    return (event, context) => {
      let result: unknown;
      try {
        result = next(event, context);
      } catch (error) {
        return retry(event, context, error);
      }
      if (!isPromiseLike(result)) return result;
      return Promise.resolve(result).catch((error: unknown) => retry(event, context, error));
    };
  };
}
