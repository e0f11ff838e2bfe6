import type { Span } from '@opentelemetry/api';
import type { OutgoingEvent, SourceEvent } from '../broker/contract.ts';
import { errorMessage } from '../errors.ts';
import { injectTraceContext } from '../tracing/propagation.ts';

/**
 * Where events go that failed for good. The processor acks an event only after `write` resolved;
 * if it rejects, the event is nacked and comes back, so nothing is lost.
 */
export interface DeadLetterSink {
  /** A short description for logs: `kafka topic {source}.dlq`, `file ./dead-letters.jsonl`. */
  readonly description: string;
  /**
   * `span` (with `tracing.enabled`): the dead-letter write's span, whose trace context replaces
   * the event's `traceparent` in the dead letter's headers.
   */
  write(event: SourceEvent, error: unknown, attempts: number, span?: Span): Promise<void>;
  close(): Promise<void>;
}

/**
 * Headers a dead letter carries, beside the original ones: why it failed and where it was, and
 * the trace context (the original `traceparent`, or `span`'s when the event was traced).
 */
export function deadLetterHeaders(event: SourceEvent, error: unknown, attempts: number, span?: Span): Record<string, string> {
  return {
    ...injectTraceContext(event.headers, span),
    'sluice-error': errorMessage(error).slice(0, 1024),
    'sluice-error-type': error instanceof Error ? error.name : typeof error,
    'sluice-attempts': String(attempts),
    'sluice-source': event.source,
    'sluice-partition': event.position.partition,
    'sluice-offset': event.position.offset,
    'sluice-event-id': event.id,
    'sluice-failed-at': new Date().toISOString(),
  };
}

export function toDeadLetter(event: SourceEvent, error: unknown, attempts: number, span?: Span): OutgoingEvent {
  return { key: event.key, payload: event.payload, headers: deadLetterHeaders(event, error, attempts, span) };
}

/** `{source}` in a destination template becomes the topic / stream / subscription read from. */
export function expandDestination(template: string, event: SourceEvent): string {
  return template.replaceAll('{source}', event.source);
}
