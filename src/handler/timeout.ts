import { TimeoutError } from '../errors.ts';
import { isPromiseLike, type HandlerWrapper } from './handler.ts';

/**
 * Fails an attempt that has not settled within `ms`. The handler is abandoned, not cancelled:
 * JavaScript cannot stop a promise, so a handler that must not run on should watch its own time.
 * Synchronous handlers cost nothing here: no timer is armed unless a promise comes back.
 */
export function withTimeout(ms: number): HandlerWrapper {
  return (next) => (event, context) => {
    const result = next(event, context);
    if (!isPromiseLike(result)) return result;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
      result.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  };
}
