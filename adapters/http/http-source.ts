import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { withTimeout } from '../../src/util/with-timeout.ts';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { EventSink, Health, PartitionLag, Source } from '../../src/broker/contract.ts';
import { ConnectionError, errorMessage } from '../../src/errors.ts';
import { CommitCounts } from '../../src/metrics/source-metrics.ts';
import { BearerAuth } from './auth.ts';
import type { HttpConfig } from './config.ts';
import { DeliveryLane } from './delivery-lane.ts';
import type { HttpMetrics } from './metrics.ts';
import { handleRequest, type RequestScope } from './request-handler.ts';
import { tlsOptions } from './tls-options.ts';

/** How long close() lets answered-but-not-yet-written responses and idle sockets go before it cuts connections. */
const CLOSE_GRACE_MS = 5_000;

/** Hosts only this machine reaches: no warning for an open endpoint there. */
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * The HTTP source: a server on its own port whose POST /v1/events requests become events
 * (adapters/http/request-handler.ts), handed to the sink one request at a time
 * (./delivery-lane.ts).
 *
 * stop(): the listener closes (no new connections), requests not yet queued get 503, and so do
 * new requests on open keep-alive connections; requests whose events are queued keep waiting for
 * them (the pipeline processes them, or nacks them at its shutdown bound: 503). close(): waits
 * (bounded) for those responses, then closes every connection. Nothing is committed anywhere:
 * the client's response is the acknowledgement.
 */
export class HttpSource implements Source {
  readonly commits = new CommitCounts();
  private server: Server | undefined;
  private scope: (RequestScope & { lane: DeliveryLane | null }) | undefined;
  private listening = false;
  private closed = false;
  private sequence = 0;

  constructor(
    private readonly config: HttpConfig,
    private readonly metrics: HttpMetrics,
    private readonly logger: Logger,
  ) {}

  /** The port it listens on (the configured one, or the one the system chose for port 0). */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  get scheme(): 'http' | 'https' {
    return this.config.tls.certFile ? 'https' : 'http';
  }

  async start(sink: EventSink): Promise<void> {
    const auth = BearerAuth.fromConfig(this.config.auth);
    const tls = tlsOptions(this.config.tls);
    const scope: RequestScope & { lane: DeliveryLane | null } = {
      config: this.config,
      auth,
      metrics: this.metrics,
      lane: new DeliveryLane(sink, this.config.maxWaitMs),
      inFlight: 0,
      reserve: (count) => {
        const first = this.sequence + 1;
        this.sequence += count;
        return first;
      },
    };
    this.scope = scope;
    const listener = (request: IncomingMessage, response: ServerResponse) => {
      handleRequest(scope, request, response).catch((error: unknown) => {
        this.logger.error({ error: errorMessage(error) }, 'http source: request failed');
        if (!response.headersSent) response.writeHead(500, { connection: 'close' }).end();
      });
    };
    // Expired headers are looked for every second (Node's default: every 30 s, so a slow-headers
    // client could hold a connection 30 s past headersTimeoutMs).
    const serverOptions = { connectionsCheckingInterval: Math.min(1_000, this.config.headersTimeoutMs) };
    const server = tls ? createHttpsServer({ ...tls, ...serverOptions }, listener) : createHttpServer(serverOptions, listener);
    // The body timeout is ours (408 with a message); Node's own request timeout would answer
    // first and without saying why, so it is off. Headers keep Node's timeout.
    server.requestTimeout = 0;
    server.headersTimeout = this.config.headersTimeoutMs;
    server.keepAliveTimeout = this.config.keepAliveTimeoutMs;
    server.maxRequestsPerSocket = this.config.maxRequestsPerSocket;
    // Requests are bounded by maxConcurrentRequests, but a client opening connections and never
    // sending on them (or keeping them idle) was not: each holds a socket and a descriptor until
    // a timeout. Node closes a connection over the limit at once, before TLS or HTTP ('drop').
    server.maxConnections = this.config.maxConnections;
    server.on('drop', () => this.metrics.connectionsRefused.inc());
    this.server = server;
    this.metrics.inFlight.add(this.readInFlight);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          new ConnectionError(
            `http source: cannot listen on ${this.config.host}:${this.config.port}: ${error.code ?? error.message}`,
            error,
          ),
        ),
      );
      server.listen(this.config.port, this.config.host, () => resolve());
    });
    server.on('error', (error) => this.logger.error({ error: errorMessage(error) }, 'http source: server error'));
    this.listening = true;
    this.logger.info(
      {
        host: this.config.host,
        port: this.port,
        tls: !!tls,
        mtls: !!this.config.tls.clientCaFile,
        tokens: auth?.count ?? 0,
        ack: this.config.ack,
      },
      `http source listening on ${this.scheme}://${this.config.host}:${this.port}/v1/events`,
    );
    if (!auth && !tls?.requestCert && !LOOPBACK.has(this.config.host)) {
      this.logger.warn('http source: no bearer tokens and no client certificates: anyone who reaches the port can post events');
    }
  }

  async stop(): Promise<void> {
    const scope = this.scope;
    if (!scope?.lane) return;
    const lane = scope.lane;
    scope.lane = null;
    lane.stop();
    this.server?.close();
    this.server?.closeIdleConnections();
    this.listening = false;
  }

  async close(): Promise<void> {
    await this.stop();
    if (this.closed) return;
    this.closed = true;
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await withTimeout(closed, CLOSE_GRACE_MS, 'http server close').catch(() => undefined); // then cut what is left
    server.closeAllConnections();
    this.metrics.inFlight.delete(this.readInFlight);
  }

  health(): Health {
    if (this.closed) return { connected: false, detail: 'closed' };
    if (!this.listening) return { connected: false, detail: this.scope ? 'stopped' : 'not started' };
    return { connected: true, detail: `listening on ${this.config.host}:${this.port}, ${this.scope?.inFlight ?? 0} requests in flight` };
  }

  /** Events of requests not yet queued (waiting for room): the backlog this source holds. */
  *lag(): Iterable<PartitionLag> {
    const lane = this.scope?.lane;
    if (!lane) return;
    yield { source: this.config.source, partition: 'http', events: lane.depth, oldestMs: undefined };
  }

  private readonly readInFlight = () => this.scope?.inFlight ?? 0;
}
