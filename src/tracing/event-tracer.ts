import type { Span } from '@opentelemetry/api';
import type { SourceEvent } from '../broker/contract.ts';

/**
 * What the core asks of tracing (src/core/pipeline.ts, event-processor.ts). The core holds an
 * `EventTracer | undefined`: undefined when tracing is off, so the off path is one comparison
 * per step and the OpenTelemetry SDK is never loaded (otel-event-tracer.ts implements this, and
 * is imported only when `tracing.enabled`).
 *
 * The life of a traced event: {@link received} when the source hands it to the queue (the
 * sampling decision, and the event's span starts), {@link begin} when a worker takes it (the
 * queue wait ends), then the returned {@link EventTrace}'s calls until
 * {@link EventTrace.end} at ack or nack. {@link abandoned} ends the trace of an event that left
 * the queue without being processed (dropped by a lossy policy, nacked at shutdown, taken back
 * by its source with the sink's discard).
 */
/** Why an event left the queue unprocessed. */
export type AbandonOutcome = 'dropped' | 'nacked' | 'discarded';

export interface EventTracer {
  /** `tracing.exemplars`: the processor records traced events' trace ids as histogram exemplars. */
  readonly exemplars: boolean;
  received(events: readonly SourceEvent[]): void;
  /**
   * The event's trace as a worker starts it, or undefined when the event is not traced: the
   * processor then runs exactly its tracing-off path (one shape of object on the hot path, not
   * two: a polymorphic call there cost the untraced 99 % measurably). `at`: when the worker took
   * it, as `performance.now()` (the processor's own clock read, shared, since a clock read costs up
   * to 0.4 µs on this project's VM; not yet made epoch ms, which only a traced event needs).
   */
  begin(event: SourceEvent, at: number): EventTrace | undefined;
  /**
   * Whether {@link begin} would return a trace for the event (it was sampled in {@link received}):
   * asked before the handler of an event that may join a burst of untraced ones, which reads the
   * clock once for many (EventProcessor.settle).
   */
  traced(event: SourceEvent): boolean;
  /**
   * `context.span` of an event that is not traced: a non-recording span carrying the incoming
   * trace context, if any, so a handler can still propagate it; else one shared no-op span.
   * Asked for every untraced event, so it must be cheap: the incoming context is parsed only if
   * the handler reads it.
   */
  untracedSpan(event: SourceEvent): Span;
  abandoned(event: SourceEvent, outcome: AbandonOutcome): void;
  /** Exports what is buffered and stops (bounded by the export timeout). */
  shutdown(): Promise<void>;
}

/** How an event ended, as recorded on its span (`sluice.outcome`). */
export type TraceOutcome = 'processed' | 'dead-lettered' | 'failed';

export interface EventTrace {
  /** The event's span: `context.span`. */
  readonly span: Span;
  /** The trace id (32 hex), for exemplars (made when read: most traced events never need it). */
  readonly traceId: string;
  /** Calls `handler(event, context)` with the event's span active (for spans the handler starts). */
  run<E, C>(handler: (event: E, context: C) => unknown, event: E, context: C): unknown;
  /** The handler finished, after its last try: `error` when it failed for good. */
  handlerDone(attempts: number, error?: unknown): void;
  /** A dead-letter write starts; its span's context goes into the dead letter's headers. */
  deadLetterStarted(): Span | undefined;
  /** The dead-letter write finished (`error` when it failed). */
  deadLetterDone(error?: unknown): void;
  /** The event was acked (processed or dead-lettered) or nacked (failed): its span ends (`at`, epoch ms, or now). */
  end(outcome: TraceOutcome, error?: unknown, at?: number): void;
}
