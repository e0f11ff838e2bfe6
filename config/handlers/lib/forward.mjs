// Shared by the example handlers forwarder.mjs and enricher.mjs: POST one event to an HTTP endpoint.
import { InvalidEvent } from '../json-validator.mjs';

/** The forwarding settings from the environment; undefined when FORWARD_URL is not set. */
export function forwardSettings(env = process.env) {
  if (!env.FORWARD_URL) return undefined;
  let url;
  try {
    url = new URL(env.FORWARD_URL);
  } catch {
    throw new Error(`FORWARD_URL is not a URL: ${env.FORWARD_URL}`);
  }
  const timeoutMs = Number(env.FORWARD_TIMEOUT_MS ?? 10_000);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new Error(`FORWARD_TIMEOUT_MS must be a positive number of ms, got ${env.FORWARD_TIMEOUT_MS}`);
  return { url, timeoutMs, contentType: env.FORWARD_CONTENT_TYPE || 'application/octet-stream' };
}

/** Statuses worth another try: the endpoint is overloaded or failing, not refusing this event. */
const RETRY_STATUSES = new Set([408, 425, 429]);

/**
 * POSTs `body` (a Buffer or string) with the event's identity in headers. Resolves on 2xx. A
 * network error, a timeout, 408/425/429 or a 5xx rejects with a retriable error (Sluice tries
 * again with backoff, `handler.retry`, then dead-letters); any other status rejects with a
 * non-retriable InvalidEvent (the endpoint refused this event: retrying would not change that).
 */
export async function forward(settings, event, body, contentType = settings.contentType) {
  const headers = {
    'content-type': contentType,
    'x-sluice-event-id': event.id,
    'x-sluice-source': event.source,
    ...(event.key === undefined ? {} : { 'x-sluice-key': event.key }),
  };
  let response;
  try {
    response = await fetch(settings.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(settings.timeoutMs) });
  } catch (error) {
    throw new Error(`forward ${event.id} to ${settings.url.origin}: ${error.cause?.code ?? error.cause?.message ?? error.message}`, {
      cause: error,
    });
  }
  await response.body?.cancel();
  if (response.ok) return;
  const message = `forward ${event.id} to ${settings.url.origin}: HTTP ${response.status}`;
  if (response.status >= 500 || RETRY_STATUSES.has(response.status)) throw new Error(message);
  throw new InvalidEvent(message);
}
