import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The HTTP source's series: requests by status code, request latency (headers in to response
 * out), requests in flight, and events taken. One instance per registry, shared by every source
 * on it, so that a restarted source does not register them twice.
 */
export class HttpMetrics {
  private static readonly byRegistry = new WeakMap<Registry, HttpMetrics>();

  static for(registry: Registry): HttpMetrics {
    let metrics = HttpMetrics.byRegistry.get(registry);
    if (!metrics) {
      metrics = new HttpMetrics(registry);
      HttpMetrics.byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  readonly requests: Counter<'code'>;
  readonly latency: Histogram<'code'>;
  readonly events: Counter<'outcome'>;
  /** Readers of the requests in flight (one per running source). */
  readonly inFlight = new Set<() => number>();

  private constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'sluice_http_requests_total',
      help: 'HTTP ingest requests answered, by status code.',
      labelNames: ['code'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'sluice_http_request_duration_seconds',
      help: 'HTTP ingest request latency, from its headers to its response, by status code.',
      labelNames: ['code'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.events = new Counter({
      name: 'sluice_http_events_total',
      help: 'Events of HTTP requests: queued (taken), or refused with their request (rejected: 4xx, 429, 503).',
      labelNames: ['outcome'],
      registers: [registry],
    });
    const inFlight = this.inFlight;
    new Gauge({
      name: 'sluice_http_requests_in_flight',
      help: 'HTTP ingest requests being read, waiting for room, or waiting for their events to be processed.',
      registers: [registry],
      collect() {
        let total = 0;
        for (const read of inFlight) total += read();
        this.set(total);
      },
    });
  }

  answered(code: number, seconds: number): void {
    const label = String(code);
    this.requests.inc({ code: label });
    this.latency.observe({ code: label }, seconds);
  }
}
