import type { Logger } from 'pino';
import type { AckAudit } from '../audit/ack-audit.ts';
import type { SourceEvent } from '../broker/contract.ts';
import type { DeadLetterSink } from '../dead-letter/dead-letter.ts';
import { errorMessage } from '../errors.ts';
import { isPromiseLike, type Handler, type HandlerContext } from '../handler/handler.ts';
import { DURATION_BUCKETS } from '../util/fast-histogram.ts';
import type { EventTrace, EventTracer } from '../tracing/event-tracer.ts';
import type { PipelineStats } from './pipeline-stats.ts';

/**
 * The wall-clock time at which performance.now() was 0. Read once: the getter costs about as much
 * as a clock read, and this was the third clock read of every event.
 */
const TIME_ORIGIN = performance.timeOrigin;

/** The most events a burst defers before the clock is read (see {@link EventProcessor.settle}). */
const MAX_BURST = 32;
/** The first duration bucket's bound, ms: a burst that took no longer put each of its events there. */
const FIRST_BUCKET_MS = DURATION_BUCKETS[0]! * 1000;

/**
 * Runs one event through the (wrapped) handler and settles it: ack on success; on final failure
 * ack only after the dead-letter write succeeded, otherwise nack so the broker delivers it again.
 * Returns nothing when the handler finished synchronously, so the fast path allocates no promise.
 */
export class EventProcessor {
  constructor(
    private readonly handler: Handler,
    private readonly deadLetter: DeadLetterSink | undefined,
    private readonly stats: PipelineStats,
    private readonly broker: string,
    private readonly logger: Logger,
    /** The ack audit: each completion is recorded before the ack it allows. */
    private readonly audit?: AckAudit,
    /** Tracing, when `tracing.enabled`; undefined costs the hot path one comparison per step. */
    private readonly tracer?: EventTracer,
    /** Run a traced event's handler with its span as the active context (PipelineParts.activeSpan). */
    private readonly activeSpan = true,
  ) {
    this.exemplars = tracer?.exemplars === true;
  }

  /** Whether traced events' observations carry their trace id (`tracing.exemplars`). */
  private readonly exemplars: boolean;

  /** The last clock read (performance.now()): when the last observed event, or burst, finished. */
  private lastFinished = 0;

  /**
   * A burst: synchronous events run back to back since the last clock read, done and acked but
   * not yet observed. The clock costs about as much as the rest of Sluice's work on an event
   * (~30 ns of ~130 ns over a bare Kafka client, measured by profile), so while events are quick
   * it is read once per burst of up to {@link burstLimit} events instead of once per event.
   * {@link settle} observes them: a burst that took no longer than the first bucket (100 µs) puts
   * every event there, as per-event reads would have, with the burst's time as their sum; each
   * event's end-to-end latency is taken at the burst's end (at most 100 µs late, against
   * timestamps that have whole milliseconds). Untraced events only: a traced one has its own
   * clock reads (its span's times).
   */
  private pending = 0;
  private readonly pendingTimestamps = new Float64Array(MAX_BURST);
  /** Events a burst may hold: doubles (to MAX_BURST) after each burst that took at most half the first bucket, back to 1 after one that took longer than it. */
  private burstLimit = 1;
  /** An event's time in the last quick burst (ms): what a slow burst's events but one are counted at. */
  private quickEventMs = 0;

  /**
   * `continued`: the caller's previous event finished synchronously just before this one and
   * nothing ran in between, so this one starts when that one finished. A backlog drained by a
   * synchronous handler then reads the clock once per event instead of twice; where the clock is
   * slow (about 0.4 µs a read on this project's VM, a third of Sluice's own per-event work) that
   * counts. The duration then includes the pool's few tens of ns between the two events, far
   * below the histogram's first bucket (100 µs). Such an event, if not traced, goes on the burst
   * path ({@link processInBurst}), which reads the clock once per burst.
   */
  process(event: SourceEvent, continued = false): void | Promise<void> {
    const tracer = this.tracer;
    if (continued && (tracer === undefined || !tracer.traced(event))) return this.processInBurst(event);
    // A burst pending: it ended just now (nothing ran since), and its clock read is this one's start.
    const started = this.pending > 0 ? this.settle() : continued ? this.lastFinished : performance.now();
    const trace = tracer === undefined ? undefined : tracer.begin(event, started);
    const context = this.contextFor(tracer === undefined ? undefined : trace !== undefined ? trace.span : tracer.untracedSpan(event));
    let result: unknown;
    try {
      result = trace === undefined || !this.activeSpan ? this.handler(event, context) : trace.run(this.handler, event, context);
    } catch (error) {
      return this.fail(event, error, context, started, trace);
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).then(
        () => this.succeed(event, context, started, trace),
        (error: unknown) => this.fail(event, error, context, started, trace),
      );
    }
    this.succeed(event, context, started, trace);
  }

  /**
   * An untraced event that follows a synchronous one with nothing run in between: if its handler
   * is synchronous too and succeeds, it joins the burst (see {@link pending}); otherwise the burst
   * ends here, its clock read being this event's start (so the burst's time includes this
   * handler's synchronous part, and this event's duration leaves it out).
   */
  private processInBurst(event: SourceEvent): void | Promise<void> {
    const tracer = this.tracer;
    const context = this.contextFor(tracer === undefined ? undefined : tracer.untracedSpan(event));
    let result: unknown;
    try {
      result = this.handler(event, context);
    } catch (error) {
      return this.fail(event, error, context, this.startOfLast(), undefined);
    }
    if (isPromiseLike(result)) {
      const started = this.startOfLast();
      return Promise.resolve(result).then(
        () => this.succeed(event, context, started, undefined),
        (error: unknown) => this.fail(event, error, context, started, undefined),
      );
    }
    this.completed(event, context);
    this.pendingTimestamps[this.pending++] = event.timestamp;
    if (this.pending >= this.burstLimit) this.settle();
  }

  /** The start of an event in a burst that is not synchronous after all: the burst's end. */
  private startOfLast(): number {
    return this.pending > 0 ? this.settle() : this.lastFinished;
  }

  /**
   * Reads the clock and observes the burst's events (see {@link pending}); returns the read. The
   * pool calls it before it yields, so a burst never outlives the synchronous run it is part of
   * and nothing (a scrape, a summary) can see the histograms without it.
   */
  settle(): number {
    const now = performance.now();
    const count = this.pending;
    if (count === 0) {
      this.lastFinished = now;
      return now;
    }
    const elapsedMs = now - this.lastFinished;
    const stats = this.stats;
    if (count === 1) stats.processingSeconds.observe(elapsedMs / 1000);
    else if (elapsedMs <= FIRST_BUCKET_MS) stats.processingSeconds.observeMany(elapsedMs / 1000 / count, count);
    else {
      // Slower than the first bucket: which event took the time is unknown. Counted as the usual
      // cause, one slow event (a GC pause, a slow call) among quick ones; the sum stays exact.
      const quickMs = Math.min(this.quickEventMs, elapsedMs / count);
      stats.processingSeconds.observeMany(quickMs / 1000, count - 1);
      stats.processingSeconds.observe((elapsedMs - quickMs * (count - 1)) / 1000);
    }
    const endOfBurst = TIME_ORIGIN + now;
    const timestamps = this.pendingTimestamps;
    for (let i = 0; i < count; i++) stats.endToEndSeconds.observe(Math.max(0, endOfBurst - timestamps[i]!) / 1000);
    if (elapsedMs <= FIRST_BUCKET_MS) this.quickEventMs = elapsedMs / count;
    if (elapsedMs * 2 <= FIRST_BUCKET_MS) this.burstLimit = Math.min(this.burstLimit * 2, MAX_BURST);
    else if (elapsedMs > FIRST_BUCKET_MS) this.burstLimit = 1;
    this.pending = 0;
    this.lastFinished = now;
    return now;
  }

  /**
   * A handler's context. One shape whether tracing is on or off, traced or not: a class of its own
   * for tracing (with a lazy `span`) cost every event about 0.1 µs in bench:tracing's 0 % mode
   * against off. An untraced event's span is cheap to make: a shared no-op span, or one that
   * parses the incoming traceparent only if the handler reads it (otel-event-tracer.ts).
   */
  private contextFor(span: HandlerContext['span']): HandlerContext {
    return { attempt: 1, broker: this.broker, logger: this.logger, span };
  }

  /** The handler succeeded: the completion is audited before the ack it allows, then counted. */
  private completed(event: SourceEvent, context: HandlerContext): void {
    this.audit?.completed(event.id);
    event.ack();
    if (context.attempt > 1) this.stats.processed.retried++;
    else this.stats.processed.success++;
  }

  private succeed(event: SourceEvent, context: HandlerContext, started: number, trace: EventTrace | undefined): void {
    trace?.handlerDone(context.attempt);
    this.completed(event, context);
    if (trace === undefined) {
      this.observe(event, started, undefined);
      return;
    }
    // One clock read for the histograms and the span's end (the span ends at the ack, just before).
    const now = this.observe(event, started, trace);
    trace.end('processed', undefined, TIME_ORIGIN + now);
  }

  private async fail(
    event: SourceEvent,
    error: unknown,
    context: HandlerContext,
    started: number,
    trace: EventTrace | undefined,
  ): Promise<void> {
    trace?.handlerDone(context.attempt, error);
    if (this.deadLetter) {
      try {
        // The dead letter carries the trace context of its write's span: a consumer of the
        // dead-letter topic (a replay) continues this event's trace.
        const span = trace?.deadLetterStarted();
        try {
          await this.deadLetter.write(event, error, context.attempt, span);
        } catch (dlqError) {
          trace?.deadLetterDone(dlqError);
          throw dlqError;
        }
        trace?.deadLetterDone();
        this.audit?.deadLettered(event.id);
        event.ack('dead-lettered');
        trace?.end('dead-lettered', error);
        this.stats.processed.dead_lettered++;
        this.logger.warn(
          {
            id: event.id,
            source: event.source,
            partition: event.position.partition,
            offset: event.position.offset,
            attempts: context.attempt,
            error: errorMessage(error),
            deadLetter: this.deadLetter.description,
          },
          'event dead-lettered',
        );
        this.observe(event, started, trace);
        return;
      } catch (dlqError) {
        this.logger.error(
          { id: event.id, error: errorMessage(error), deadLetterError: errorMessage(dlqError) },
          'dead-letter write failed; event will be redelivered',
        );
        event.nack(dlqError instanceof Error ? dlqError : new Error(String(dlqError)));
        trace?.end('failed', dlqError);
      }
    } else {
      this.logger.error(
        { id: event.id, attempts: context.attempt, error: errorMessage(error) },
        'event failed; no dead-letter destination, nacked for redelivery',
      );
      event.nack(error instanceof Error ? error : new Error(String(error)));
      trace?.end('failed', error);
    }
    this.stats.processed.failed++;
    this.observe(event, started, trace);
  }

  /** Records the event's durations; returns the clock read (performance.now()) they end at. */
  private observe(event: SourceEvent, started: number, trace: EventTrace | undefined): number {
    const now = performance.now();
    this.lastFinished = now;
    const processing = (now - started) / 1000;
    const endToEnd = Math.max(0, TIME_ORIGIN + now - event.timestamp) / 1000;
    if (trace !== undefined && this.exemplars) {
      // Exemplars only for traced events: an exemplar links a bucket to a trace one can open.
      const traceId = trace.traceId;
      const at = (TIME_ORIGIN + now) / 1000;
      this.stats.processingSeconds.observeExemplar(processing, traceId, at);
      this.stats.endToEndSeconds.observeExemplar(endToEnd, traceId, at);
      return now;
    }
    this.stats.processingSeconds.observe(processing);
    this.stats.endToEndSeconds.observe(endToEnd);
    return now;
  }
}
