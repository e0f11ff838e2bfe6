// Alertmanager's receiver in the drill: an HTTP server on 127.0.0.1 that records the time each
// alert notification (firing and resolved) arrives. That arrival, not Prometheus' own state, is
// what "detected" means: the whole path from the fault to the page.
import { createServer, type Server } from 'node:http';

export interface AlertArrival {
  /** Date.now() when the notification arrived. */
  at: number;
  status: 'firing' | 'resolved';
  alertname: string;
  labels: Record<string, string>;
}

interface WebhookPayload {
  alerts?: { status: 'firing' | 'resolved'; labels: Record<string, string> }[];
}

export class AlertWebhook {
  readonly arrivals: AlertArrival[] = [];
  private server: Server | undefined;

  async start(port: number): Promise<void> {
    this.server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        const at = Date.now();
        try {
          const payload = JSON.parse(body) as WebhookPayload;
          for (const alert of payload.alerts ?? []) {
            this.arrivals.push({ at, status: alert.status, alertname: alert.labels.alertname ?? '?', labels: alert.labels });
          }
          response.writeHead(200).end();
        } catch {
          response.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', resolve);
    });
  }

  /** Arrivals of one drill run (its `drill_run` label) since `since`. */
  of(run: string, since = 0): AlertArrival[] {
    return this.arrivals.filter((arrival) => arrival.labels.drill_run === run && arrival.at >= since);
  }

  /** First arrival of `alertname` with `status` for `run` at or after `since`. */
  first(run: string, alertname: string, status: AlertArrival['status'], since: number): AlertArrival | undefined {
    return this.of(run, since).find((arrival) => arrival.alertname === alertname && arrival.status === status);
  }

  /** Whether `alertname` of `run` is firing by the last notification about it. */
  firing(run: string, alertname: string): boolean {
    const last = this.of(run)
      .filter((arrival) => arrival.alertname === alertname)
      .at(-1);
    return last?.status === 'firing';
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
