import {
  type Context,
  context as contextApi,
  defaultTextMapGetter,
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  trace,
} from '@opentelemetry/api';
import type { SourceEvent } from '../broker/contract.ts';
import { errorMessage } from '../errors.ts';
import { EventSpan, type ExportStats, now, type SpanSink } from './event-span.ts';
import type { AbandonOutcome, EventTrace, EventTracer, TraceOutcome } from './event-tracer.ts';
import { parseTraceparent, TRACEPARENT } from './propagation.ts';
import { EventSampler } from './sampler.ts';

/**
 * The spans of one traced event, in the trace its `traceparent` names (or a new one):
 *
 *   <source> process (CONSUMER)   receive → ack/nack; attributes below; status ERROR unless processed
 *     · event "handler.start"     a worker took it: the span's start to here is the queue wait
 *     · event "exception"         the handler failed for good (after sluice.handler.attempts tries)
 *     · event "nack"              when it goes back to the broker
 *   (a handler that succeeds is followed at once by the ack: the span's end is its end)
 *   └─ dead letter (PRODUCER)     the dead-letter write, when the event failed for good
 *
 * The spans are {@link EventSpan}s, recorded as plain data and exported from a worker thread
 * (export-thread.ts), not the SDK's: see event-span.ts for why.
 *
 * One span per event, with the steps as timed span events rather than child spans: the core
 * spends about a microsecond on an event, and a span costs several (ids, attributes, export), so
 * at 1 % sampling three more spans per traced event cost the untraced 99 % a measurable share of
 * their throughput (bench:tracing; the README gives the figures). A trace view still draws the
 * steps on the span's timeline. The span is the handler's `context.span` and the active span
 * while it runs, so spans the handler starts are its children. The dead-letter write is a child
 * span because it is real I/O to another destination, and its context is what the dead letter
 * carries. The ack is the end of the span, its outcome `sluice.outcome`: an ack is a synchronous
 * hand-over to the adapter, whose broker commit is batched across many events and so belongs to
 * no one event's trace.
 */
export class OtelEventTracer implements EventTracer {
  private readonly sampler: EventSampler;
  private readonly system: string;

  constructor(
    private readonly sink: SpanSink,
    private readonly propagator: TextMapPropagator,
    broker: string,
    sampleRatio: number,
    private readonly shutdownProvider: () => Promise<void>,
    /** `tracing.exemplars`: whether the processor records the traced events' exemplars. */
    readonly exemplars = false,
    random: () => number = Math.random,
  ) {
    this.sampler = new EventSampler(sampleRatio, random);
    this.system = MESSAGING_SYSTEM[broker] ?? broker;
  }

  /**
   * A traced event's trace waits in the event's own `traceSlot` (the contract's slot for the
   * core) until a worker takes it: no map to ask for each of the untraced 99 %, whose lookup
   * (a WeakMap miss, 10–25 ns on this project's VM) was a measurable share of their cost.
   */
  received(events: readonly SourceEvent[]): void {
    let receivedAt: number | undefined;
    for (const event of events) {
      const header = event.headers[TRACEPARENT];
      const parent = header === undefined ? undefined : parseTraceparent(header);
      if (!this.sampler.sample(parent)) continue;
      receivedAt ??= now(); // one clock read for the batch
      const parentContext =
        parent === undefined ? ROOT_CONTEXT : this.propagator.extract(ROOT_CONTEXT, event.headers, defaultTextMapGetter);
      event.traceSlot = new TracedEvent(this.sink, parentContext, event, this.system, receivedAt);
    }
  }

  begin(event: SourceEvent, at: number): EventTrace | undefined {
    const traced = event.traceSlot as TracedEvent | undefined;
    if (traced === undefined) return undefined;
    event.traceSlot = undefined;
    traced.begin(ORIGIN + at);
    return traced;
  }

  traced(event: SourceEvent): boolean {
    return event.traceSlot !== undefined;
  }

  untracedSpan(event: SourceEvent): Span {
    return event.headers[TRACEPARENT] === undefined ? NO_SPAN : new IncomingSpan(this.propagator, event.headers);
  }

  abandoned(event: SourceEvent, outcome: AbandonOutcome): void {
    const traced = event.traceSlot as TracedEvent | undefined;
    if (traced === undefined) return;
    event.traceSlot = undefined;
    traced.abandon(outcome);
  }

  shutdown(): Promise<void> {
    return this.shutdownProvider();
  }

  /** The export thread's counts and CPU time so far (bench:tracing). */
  exportStats(): ExportStats | undefined {
    return this.sink.stats?.();
  }

  /** Resolves once the spans ended so far are exported (bench:tracing). */
  async flush(): Promise<void> {
    await this.sink.flush?.();
  }
}

/** performance.timeOrigin, read once (its getter costs about a clock read). */
const ORIGIN = performance.timeOrigin;

/** A traced (sampled) event's span. */
class TracedEvent implements EventTrace {
  readonly span: EventSpan;
  private context: Context | undefined;
  private deadLetterSpan: Span | undefined;

  constructor(
    private readonly sink: SpanSink,
    private readonly parent: Context,
    event: SourceEvent,
    system: string,
    receivedAt: number,
  ) {
    // Named `<source> process` and given its attributes from the event when exported (EventSpan).
    this.span = new EventSpan(sink, undefined, SpanKind.CONSUMER, trace.getSpanContext(parent), receivedAt, { system, event });
  }

  get traceId(): string {
    return this.span.spanContext().traceId;
  }

  /** A worker took the event at `at` (epoch ms): the queue wait ends. */
  begin(at: number): void {
    this.span.handlerStart = at;
  }

  run<E, C>(handler: (event: E, context: C) => unknown, event: E, context: C): unknown {
    this.context ??= new SpanFrame(this.parent, this.span);
    return contextApi.with(this.context, handler, undefined, event, context);
  }

  handlerDone(attempts: number, error?: unknown): void {
    // A handler that succeeded is followed at once by the ack, the span's end: no event needed.
    // A failure's `exception` event marks the handler's end before the dead-letter write.
    this.span.handlerAttempts = attempts;
    if (error !== undefined) this.span.recordException(error instanceof Error ? error : String(error));
  }

  deadLetterStarted(): Span {
    this.deadLetterSpan = new EventSpan(this.sink, 'dead letter', SpanKind.PRODUCER, this.span.spanContext(), now());
    return this.deadLetterSpan;
  }

  deadLetterDone(error?: unknown): void {
    const span = this.deadLetterSpan;
    if (span === undefined) return;
    if (error !== undefined) fail(span, error);
    span.end();
    this.deadLetterSpan = undefined;
  }

  end(outcome: TraceOutcome, error?: unknown, at?: number): void {
    const span = this.span;
    span.outcome = outcome;
    if (outcome === 'failed') span.addEvent('nack', error === undefined ? undefined : { 'exception.message': errorMessage(error) });
    if (outcome !== 'processed')
      span.setStatus({ code: SpanStatusCode.ERROR, message: error === undefined ? outcome : errorMessage(error) });
    span.end(at);
  }

  /** Left the queue unprocessed: dropped by a lossy policy, or nacked at shutdown. */
  abandon(outcome: AbandonOutcome): void {
    this.span.outcome = outcome;
    if (outcome === 'nacked') this.span.addEvent('nack', { 'exception.message': 'sluice is shutting down' });
    // Taken back unstarted: the source delivers it again (a new span then) or its next owner does.
    if (outcome === 'discarded') this.span.addEvent('discarded');
    this.span.end();
  }
}

/**
 * The context a traced event's handler runs in: its parent's, with the event's span as the active
 * span. The API's `trace.setSpan` would copy the parent's entries into a new Map and make three
 * closures for each traced event; this reads through to the parent instead, and makes the copy
 * only if a handler derives a context from it. The span's key is the API's own: `createContextKey`
 * is `Symbol.for(description)`, so that every copy of the API shares it.
 */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
class SpanFrame implements Context {
  constructor(
    private readonly parent: Context,
    private readonly span: Span,
  ) {}

  getValue(key: symbol): unknown {
    return key === SPAN_KEY ? this.span : this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return this.parent.setValue(SPAN_KEY, this.span).setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return this.parent.setValue(SPAN_KEY, this.span).deleteValue(key);
  }
}

function fail(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error === undefined ? undefined : errorMessage(error) });
}

/**
 * `messaging.system` where OpenTelemetry's messaging conventions name the broker differently
 * from Sluice's `broker.type` (Kafka is `kafka` in both; Kinesis, NATS, HTTP and the memory
 * broker have no registered value and keep their type).
 */
const MESSAGING_SYSTEM: Readonly<Record<string, string>> = { pubsub: 'gcp_pubsub' };

/** `context.span` of an untraced event that arrived without a trace context. */
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * `context.span` of an untraced event that arrived with a `traceparent` (not sampled there, or
 * not here): a non-recording span whose context is the incoming one, parsed (with `tracestate`,
 * by the propagator) only when something reads it, since most handlers never do. An invalid
 * header gives the invalid context, as the API's non-recording span of nothing.
 */
class IncomingSpan implements Span {
  private context: SpanContext | undefined;

  constructor(
    private readonly propagator: TextMapPropagator,
    private readonly headers: Readonly<Record<string, string>>,
  ) {}

  spanContext(): SpanContext {
    this.context ??=
      trace.getSpanContext(this.propagator.extract(ROOT_CONTEXT, this.headers, defaultTextMapGetter)) ?? INVALID_SPAN_CONTEXT;
    return this.context;
  }

  setAttribute(): this {
    return this;
  }
  setAttributes(): this {
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(): this {
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {}
  isRecording(): boolean {
    return false;
  }
  recordException(): void {}
}
