import { connect, constants, type ClientHttp2Session, type SecureClientSessionOptions } from 'node:http2';

/** The parts of the SDK's HttpRequest this handler reads (a structural type: no smithy import). */
interface HttpRequestLike {
  protocol: string;
  hostname: string;
  port?: number;
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

/**
 * The HTTP/2 handler of the fan-out client: one session per SubscribeToShard, kept open until
 * the event stream ends, then destroyed.
 *
 * Why not the SDK's NodeHttp2Handler: for an event stream it opens an isolated session and sends
 * GOAWAY (session.close()) as soon as the response headers arrive, relying on the server to
 * finish the open stream. AWS does; kinesis-mock answers that GOAWAY with a protocol error and
 * the subscription dies before its first event. Closing only after the stream ended is correct
 * HTTP/2 for every server, so the same code path serves AWS and the emulator.
 */
export class Http2EventStreamHandler {
  readonly metadata = { handlerProtocol: 'h2' };
  private readonly sessions = new Set<ClientHttp2Session>();

  constructor(private readonly connectOptions: SecureClientSessionOptions = {}) {}

  handle(
    request: HttpRequestLike,
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<{ response: { statusCode: number; headers: Record<string, string>; body: unknown } }> {
    return new Promise((resolve, reject) => {
      const signal = options.abortSignal;
      if (signal?.aborted) return reject(abortError());
      const authority = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}`;
      const session = connect(authority, this.connectOptions);
      this.sessions.add(session);
      let settled = false;
      const fail = (error: Error) => {
        session.destroy();
        if (!settled) {
          settled = true;
          reject(error);
        }
      };
      session.on('error', fail);
      session.on('close', () => this.sessions.delete(session));
      const query = request.query ? new URLSearchParams(flatten(request.query)).toString() : '';
      const stream = session.request({
        ...request.headers,
        [constants.HTTP2_HEADER_METHOD]: request.method,
        [constants.HTTP2_HEADER_PATH]: query ? `${request.path}?${query}` : request.path,
      });
      const onAbort = () => fail(abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('error', fail);
      stream.on('close', () => {
        signal?.removeEventListener('abort', onAbort);
        session.destroy();
        if (!settled) fail(new Error(`HTTP/2 stream closed before a response (code ${stream.rstCode})`));
      });
      stream.on('response', (headers) => {
        settled = true;
        const plain: Record<string, string> = {};
        for (const [name, value] of Object.entries(headers)) if (!name.startsWith(':') && value !== undefined) plain[name] = String(value);
        resolve({ response: { statusCode: Number(headers[constants.HTTP2_HEADER_STATUS] ?? -1), headers: plain, body: stream } });
      });
      writeBody(stream, request.body);
    });
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {
    for (const session of this.sessions) session.destroy();
    this.sessions.clear();
  }
}

function writeBody(stream: NodeJS.WritableStream, body: unknown): void {
  if (body === undefined || body === null) {
    stream.end();
  } else if (typeof body === 'string') {
    stream.end(body);
  } else if (body instanceof Uint8Array) {
    stream.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  } else if (typeof (body as NodeJS.ReadableStream).pipe === 'function') {
    (body as NodeJS.ReadableStream).pipe(stream);
  } else {
    stream.end(Buffer.from(String(body)));
  }
}

function flatten(query: Record<string, string | string[] | null>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) for (const item of value) pairs.push([key, item]);
    else pairs.push([key, value ?? '']);
  }
  return pairs;
}

function abortError(): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError' });
}
