/**
 * `promise`, or a rejection if it takes longer than `ms` (the promise itself is not cancelled;
 * a rejection it makes later is not an unhandled one). The rejection is `error()` when given
 * (e.g. a ConnectionError naming the broker and the setting), else an Error "`what` timed out
 * after `ms` ms". The one timeout helper of the source kit (src/source-kit/README.md).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string | (() => Error) = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(typeof what === 'string' ? new Error(`${what} timed out after ${ms} ms`) : what()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
