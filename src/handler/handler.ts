import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { SourceEvent } from '../broker/contract.ts';

/** What a handler gets beside the event. */
export interface HandlerContext {
  /** 1 for the first try of this delivery, then 2, 3… as the retry wrapper tries again. */
  attempt: number;
  /** The broker type Sluice runs on (`memory`, `kafka`, `kinesis`, `pubsub`). */
  readonly broker: string;
  readonly logger: Logger;
  /** The decoded payload when `handler.decode` is set (json). */
  value?: unknown;
  /**
   * With `tracing.enabled`: the OpenTelemetry span of this event (`<source> process`), also the
   * active span while the handler runs, so spans the handler starts with `@opentelemetry/api`
   * nest under it. For an event that is not sampled it is a non-recording
   * span that still carries the incoming trace context (pass it to `injectTraceContext` of
   * src/tracing/propagation.ts to propagate). Undefined when tracing is off, and in
   * `pool.mode: threads` (a span cannot cross to a worker thread; the event's headers still
   * carry the incoming `traceparent`).
   */
  span?: Span;
}

/**
 * A user handler: `export default async function (event, context) {}` in an ES module.
 * Returning (or resolving) means success; throwing (or rejecting) means failure. An error with
 * `retriable: false` skips the remaining retries and goes straight to the dead-letter destination.
 * A handler may return synchronously; the core does not wait for a microtask it does not need.
 */
export type Handler = (event: SourceEvent, context: HandlerContext) => unknown;

/** A cross-cutting behaviour (retry, timeout, fault injection) around a handler. */
export type HandlerWrapper = (next: Handler) => Handler;

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}
