import type { IncomingMessage } from 'node:http';

/** How reading a request body ended. */
export type BodyResult =
  | { readonly kind: 'body'; readonly body: Buffer }
  /** Larger than the limit: the rest was read and thrown away (bounded), so the client sees the 413. */
  | { readonly kind: 'tooLarge' }
  /** Not whole within the body timeout: a slow (or stalled) client. */
  | { readonly kind: 'timeout' }
  /** The client went away. */
  | { readonly kind: 'aborted' };

/**
 * Reads a request body, at most `maxBytes`, within `timeoutMs` of the call.
 *
 * A body over the limit is not kept, but it is still read to its end (up to 4 × the limit and
 * within the timeout): a client that is still writing when the server answers and closes often
 * sees a reset connection instead of the 413, and cannot tell why it failed.
 */
export function readBody(request: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<BodyResult> {
  const declared = Number(request.headers['content-length']);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > maxBytes;
    let done = false;
    const finish = (result: BodyResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('aborted', onAborted);
      request.off('error', onAborted);
      request.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
        if (size > 4 * maxBytes) finish({ kind: 'tooLarge' });
      } else if (!tooLarge) chunks.push(chunk);
    };
    const onEnd = () =>
      finish(tooLarge ? { kind: 'tooLarge' } : { kind: 'body', body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    const onAborted = () => finish({ kind: 'aborted' });
    const onClose = () => {
      if (!request.complete) finish({ kind: 'aborted' });
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    timer.unref();
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('aborted', onAborted);
    request.on('error', onAborted);
    request.on('close', onClose);
  });
}
