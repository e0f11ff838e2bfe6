import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BearerAuth } from './auth.ts';
import { readBody } from './body-reader.ts';
import type { HttpConfig } from './config.ts';
import type { DeliveryLane } from './delivery-lane.ts';
import { RequestBatch, requestTraceContext } from './http-event.ts';
import type { HttpMetrics } from './metrics.ts';
import { BodyError, formatOf, parseBody } from './parse-events.ts';

export const EVENTS_PATH = '/v1/events';

/** What a request needs from the source that serves it. */
export interface RequestScope {
  readonly config: HttpConfig;
  readonly auth: BearerAuth | null;
  readonly metrics: HttpMetrics;
  /** Null once the source stops: requests then get 503. */
  readonly lane: DeliveryLane | null;
  /** Requests being handled (counted from admission to response). */
  inFlight: number;
  /** Reserves `count` sequence numbers; returns the first. */
  reserve(count: number): number;
}

type Json = Record<string, unknown>;

/**
 * One POST /v1/events, start to end. The statuses and what they tell a client (adapters/http/README.md):
 * 200/202 every event taken; 400/413/415 bad request, none taken (do not retry as is); 401 no or
 * wrong token; 408 body too slow, none taken; 429 no room within maxWaitMs, none taken (retry
 * after Retry-After); 503 not taken (busy, stopping), or with `ack: processed` some events not
 * processed (the body lists them): retry, expecting duplicates of those that were.
 */
export async function handleRequest(scope: RequestScope, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const started = performance.now();
  const { config } = scope;
  const send = (status: number, body: Json, headers: Record<string, string> = {}) => {
    scope.metrics.answered(status, (performance.now() - started) / 1000);
    if (response.destroyed || response.headersSent) return;
    const text = JSON.stringify(body);
    // Stopping: the client should open its next connection to another instance.
    const closing = scope.lane ? {} : { connection: 'close' };
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...closing, ...headers });
    response.end(text);
  };
  /** Refused before the body was read: the connection closes after the answer (the body is not wanted). */
  const refuse = (status: number, error: string, headers: Record<string, string> = {}) => {
    send(status, { error }, { connection: 'close', ...headers });
    request.resume();
  };
  const retryAfter = { 'retry-after': String(config.retryAfterSeconds) };

  const path = (request.url ?? '').split('?')[0];
  if (path !== EVENTS_PATH) return refuse(404, `not found: the events endpoint is POST ${EVENTS_PATH}`);
  if (request.method !== 'POST') return refuse(405, `method ${request.method} not allowed: POST ${EVENTS_PATH}`, { allow: 'POST' });
  if (scope.auth && !scope.auth.allows(request.headers.authorization)) {
    return refuse(401, 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
  }
  const format = formatOf(request.headers['content-type']);
  if (!format) {
    return refuse(415, `content-type ${request.headers['content-type'] ?? '(none)'}: expected application/json or application/x-ndjson`);
  }
  if (!scope.lane) return refuse(503, 'shutting down', retryAfter);
  if (scope.inFlight >= config.maxConcurrentRequests) {
    return refuse(503, `too many requests at once (broker.http.maxConcurrentRequests ${config.maxConcurrentRequests})`, retryAfter);
  }

  scope.inFlight++;
  try {
    const read = await readBody(request, config.maxBodyBytes, config.bodyTimeoutMs);
    if (read.kind === 'aborted') return send(499, { error: 'client closed the request' });
    if (read.kind === 'timeout') {
      return refuse(408, `the body did not arrive within ${config.bodyTimeoutMs} ms (broker.http.bodyTimeoutMs)`);
    }
    if (read.kind === 'tooLarge') return refuse(413, `the body is larger than ${config.maxBodyBytes} bytes (broker.http.maxBodyBytes)`);

    let batch: RequestBatch;
    try {
      const parsed = parseBody(read.body, format, config.maxEventsPerRequest);
      batch = new RequestBatch(parsed, config.source, scope.reserve(parsed.length), Date.now(), requestTraceContext(request));
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      return send(error.status, { error: error.message, ...error.where });
    }
    const count = batch.events.length;

    const lane = scope.lane;
    const result = lane ? await lane.deliver(batch) : 'stopped';
    if (result !== 'queued') {
      scope.metrics.eventsCounted('rejected', count);
      if (result === 'timeout') {
        return send(
          429,
          { error: `the queue had no room within ${config.maxWaitMs} ms (broker.http.maxWaitMs); none of the ${count} events was taken` },
          retryAfter,
        );
      }
      return send(503, { error: `shutting down; none of the ${count} events was taken` }, retryAfter);
    }
    scope.metrics.eventsCounted('queued', count);
    const ids = batch.events.map((event) => event.id);
    if (config.ack === 'accepted') return send(202, { accepted: count, ids });

    await batch.settled;
    const summary = batch.summary();
    const body = { events: count, processed: summary.processed, deadLettered: summary.deadLettered, dropped: summary.dropped, ids };
    if (summary.failed.length === 0) return send(200, body);
    return send(
      503,
      {
        ...body,
        failed: summary.failed,
        error: `${summary.failed.length} of ${count} events were not processed: ${batch.failure?.message}`,
      },
      retryAfter,
    );
  } finally {
    scope.inFlight--;
  }
}
