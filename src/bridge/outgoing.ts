import type { OutgoingEvent, SourceEvent } from '../broker/contract.ts';
import type { HandlerContext } from '../handler/handler.ts';
import { injectTraceContext } from '../tracing/propagation.ts';
import type { ForwardConfig } from './forward-config.ts';

/**
 * How a source event becomes the event published to the destination: its payload as is, the key
 * `keyFrom` names, and the headers `headers` says. Nothing is added: no provenance headers, so a
 * bridged event is byte for byte what a producer would have sent to the destination directly.
 */
export type ToOutgoing = (event: SourceEvent, context: HandlerContext) => OutgoingEvent;

/**
 * Headers the dead-letter writer adds (src/dead-letter/dead-letter.ts, deadLetterHeaders): dropped
 * when a dead-letter destination is replayed, so that the original event is published again.
 */
export const DEAD_LETTER_HEADERS: readonly string[] = [
  'sluice-error',
  'sluice-error-type',
  'sluice-attempts',
  'sluice-source',
  'sluice-partition',
  'sluice-offset',
  'sluice-event-id',
  'sluice-failed-at',
];

export function outgoingFor(config: Pick<ForwardConfig, 'keyFrom' | 'headers' | 'unwrapDeadLetters'>): ToOutgoing {
  const keyOf = keyFrom(config.keyFrom);
  return (event, context) => ({
    key: keyOf(event),
    payload: event.payload,
    headers: headersFor(event, context, config),
  });
}

/**
 * The headers published with `event`: the single place that decides them. With `keep` and
 * `tracing.enabled`, the event's span (`context.span`) is written as the `traceparent`, so the
 * destination's consumer continues the trace as its child; with tracing off, a `traceparent` the
 * source carried passes through unchanged. `drop` publishes no headers, trace context included.
 */
export function headersFor(
  event: SourceEvent,
  context: HandlerContext,
  config: Pick<ForwardConfig, 'headers' | 'unwrapDeadLetters'>,
): Readonly<Record<string, string>> | undefined {
  if (config.headers === 'drop') return undefined;
  if (!config.unwrapDeadLetters) return injectTraceContext(event.headers, context.span);
  const headers: Record<string, string> = { ...event.headers };
  for (const name of DEAD_LETTER_HEADERS) delete headers[name];
  return injectTraceContext(headers, context.span);
}

/** `key`: the source key; `none`: no key; `header:<name>`: that header's value (no key when absent). */
export function keyFrom(spec: string): (event: SourceEvent) => string | undefined {
  if (spec === 'key') return (event) => event.key;
  if (spec === 'none') return () => undefined;
  const name = spec.slice('header:'.length);
  return (event) => event.headers[name] || undefined;
}
