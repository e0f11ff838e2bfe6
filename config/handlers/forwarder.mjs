// Forwarder: an example Sluice handler that POSTs each event to an HTTP endpoint (a webhook, an
// ingestion API, another service), turning any broker Sluice reads into HTTP calls.
//
//   handler:
//     module: ./config/handlers/forwarder.mjs   # relative paths start at the directory sluice runs in
//     timeoutMs: 15000                          # above FORWARD_TIMEOUT_MS
//     retry: { maxAttempts: 5 }
//   deadLetter: { type: file }                  # or broker: events the endpoint refuses
//
// Environment, read once when the module loads (a missing or bad FORWARD_URL stops `sluice run`
// and `sluice config check` with a clear error before any event is read):
//   FORWARD_URL=https://ingest.example.com/events   required
//   FORWARD_TIMEOUT_MS=10000                         per request (default 10 s)
//   FORWARD_CONTENT_TYPE=application/json           sent as content-type (default application/octet-stream)
//
// The payload is the request body, unchanged; the event id, its source (topic, stream or
// subscription) and its key go in x-sluice-event-id, x-sluice-source and x-sluice-key. A 2xx
// response completes the event (Sluice then acks it). A network error, a timeout, 408, 425,
// 429 or a 5xx is retried with backoff (handler.retry), then dead-lettered; any other status
// (a 400 or 422: the endpoint refuses this event) is dead-lettered at once. Sluice runs up to
// pool.size requests at a time: size the pool for the endpoint. Delivery is at-least-once, so
// the endpoint may see an event twice; x-sluice-event-id lets it tell.
import { forward, forwardSettings } from './lib/forward.mjs';

const settings = forwardSettings();
if (!settings) throw new Error('FORWARD_URL is not set: the forwarder needs the URL to POST events to');

export default function forwarder(event) {
  return forward(settings, event, event.payload);
}
