import type { Counter, Histogram, Registry } from 'prom-client';
import { BrokerMetrics } from '../../src/metrics/broker-metrics.ts';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The HTTP source's series, `sluice_http_*`, made with the one adapter idiom
 * (src/metrics/broker-metrics.ts): requests by status code, request latency (headers in to
 * response out), requests in flight, and events taken. One instance per registry, shared by
 * every source on it, so that a restarted source does not register them twice.
 */
export class HttpMetrics {
  static for(registry: Registry): HttpMetrics {
    return BrokerMetrics.for(registry, 'http').once('http', (metrics) => new HttpMetrics(metrics));
  }

  readonly requests: Counter<'broker' | 'code'>;
  readonly latency: Histogram<'broker' | 'code'>;
  readonly events: Counter<'broker' | 'outcome'>;
  /** Connections closed on arrival because maxConnections were open. */
  readonly connectionsRefused: Counter.Internal;
  /** Readers of the requests in flight (one per running source). */
  readonly inFlight = new Set<() => number>();
  private readonly labels: { readonly broker: string };

  private constructor(metrics: BrokerMetrics) {
    this.labels = metrics.labels;
    this.requests = metrics.counter('requests_total', 'HTTP ingest requests answered, by status code.', ['code']);
    this.latency = metrics.histogram(
      'request_duration_seconds',
      'HTTP ingest request latency, from its headers to its response, by status code.',
      LATENCY_BUCKETS,
      ['code'],
    );
    this.events = metrics.counter(
      'events_total',
      'Events of HTTP requests: queued (taken), or refused with their request (rejected: 4xx, 429, 503).',
      ['outcome'],
    );
    for (const outcome of ['queued', 'rejected']) this.events.inc({ ...this.labels, outcome }, 0);
    this.connectionsRefused = metrics
      .counter('connections_refused_total', 'HTTP ingest connections closed on arrival: maxConnections were open.')
      .labels(this.labels);
    metrics.sampledGauge(
      'requests_in_flight',
      'HTTP ingest requests being read, waiting for room, or waiting for their events to be processed.',
      () => {
        let total = 0;
        for (const read of this.inFlight) total += read();
        return total;
      },
    );
  }

  answered(code: number, seconds: number): void {
    const labels = { ...this.labels, code: String(code) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
  }

  /** `count` events queued (taken) or rejected with their request. */
  eventsCounted(outcome: 'queued' | 'rejected', count: number): void {
    this.events.inc({ ...this.labels, outcome }, count);
  }
}
