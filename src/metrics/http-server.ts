import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthProbe {
  health(): { live: boolean; ready: boolean; detail: string };
}

/**
 * /metrics (Prometheus text format), /healthz (the process is alive) and /readyz (connected to
 * the broker and not stalled: what a load balancer or Kubernetes should route / restart on).
 */
export class MetricsServer {
  private server: Server | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly probe: HealthProbe,
    private readonly host: string,
    private readonly port: number,
    /** More paths and their handlers (`/faults` when fault injection is enabled). */
    private readonly routes: Readonly<Record<string, (request: IncomingMessage, response: ServerResponse) => void>> = {},
  ) {}

  async start(): Promise<number> {
    const server = createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path === '/metrics') {
        this.registry.metrics().then(
          (text) => {
            response.writeHead(200, { 'content-type': this.registry.contentType });
            response.end(text);
          },
          (error: unknown) => {
            response.writeHead(500, { 'content-type': 'text/plain' });
            response.end(String(error));
          },
        );
        return;
      }
      if (path === '/healthz' || path === '/readyz') {
        const health = this.probe.health();
        const ok = path === '/healthz' ? health.live : health.ready;
        response.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
        response.end(`${JSON.stringify({ status: ok ? 'ok' : 'unavailable', ...health })}\n`);
        return;
      }
      const route = path !== undefined && Object.hasOwn(this.routes, path) ? this.routes[path] : undefined;
      if (route) return route(request, response);
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end(`not found: try ${['/metrics', '/healthz', '/readyz', ...Object.keys(this.routes)].join(', ')}\n`);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
