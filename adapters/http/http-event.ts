import type { AckOutcome, Position, SourceEvent } from '../../src/broker/contract.ts';
import { inheritTraceContext } from '../../src/tracing/propagation.ts';
import type { ParsedEvent } from './parse-events.ts';

/** The W3C trace context of a request (its `traceparent` / `tracestate` headers), if any. */
export interface RequestTraceContext {
  readonly traceparent: string | undefined;
  readonly tracestate: string | undefined;
}

/** The request's trace context: the parent of its events that carry none of their own. */
export function requestTraceContext(request: { headers: Record<string, string | string[] | undefined> }): RequestTraceContext | undefined {
  const traceparent = request.headers.traceparent;
  if (typeof traceparent !== 'string') return undefined;
  const tracestate = request.headers.tracestate;
  return { traceparent, tracestate: typeof tracestate === 'string' ? tracestate : undefined };
}

/** How one event of a request ended: an ack outcome, or `failed` (nacked: not done). */
export type EventOutcome = AckOutcome | 'failed';

/**
 * The events of one request, and how each ended. `settled` resolves once every event was acked
 * or nacked: with `ack: processed` the response waits for it.
 */
export class RequestBatch {
  readonly events: HttpEvent[];
  readonly outcomes: (EventOutcome | undefined)[];
  /** The first nack's reason, for the response. */
  failure: Error | undefined;
  private open: number;
  private resolveSettled!: () => void;
  readonly settled = new Promise<void>((resolve) => (this.resolveSettled = resolve));

  constructor(parsed: readonly ParsedEvent[], source: string, firstSequence: number, timestamp: number, trace?: RequestTraceContext) {
    this.events = parsed.map((event, i) => new HttpEvent(this, i, event, source, firstSequence + i, timestamp, trace));
    this.outcomes = new Array(parsed.length).fill(undefined);
    this.open = parsed.length;
  }

  /** @internal called once per event by HttpEvent */
  settle(index: number, outcome: EventOutcome, reason?: Error): void {
    this.outcomes[index] = outcome;
    if (outcome === 'failed' && !this.failure) this.failure = reason ?? new Error('not processed');
    if (--this.open === 0) this.resolveSettled();
  }

  /** Events not acked or nacked yet. */
  get unsettled(): number {
    return this.open;
  }

  /** Counts per outcome, and the indexes of the failed events. */
  summary(): { processed: number; deadLettered: number; dropped: number; failed: number[] } {
    const summary = { processed: 0, deadLettered: 0, dropped: 0, failed: [] as number[] };
    this.outcomes.forEach((outcome, index) => {
      if (outcome === 'processed') summary.processed++;
      else if (outcome === 'dead-lettered') summary.deadLettered++;
      else if (outcome === 'dropped') summary.dropped++;
      else summary.failed.push(index);
    });
    return summary;
  }
}

/**
 * One event of an HTTP request. Its id is the client's `id`, or `http-<sequence>`; its position
 * is partition `http` and the sequence number this server gave it (not durable: it restarts at 1).
 */
export class HttpEvent implements SourceEvent {
  readonly id: string;
  readonly key: string | undefined;
  readonly payload: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly attempt = 1;
  /** The core's (SourceEvent.traceSlot). */
  traceSlot: unknown = undefined;
  private done = false;

  constructor(
    private readonly batch: RequestBatch,
    private readonly index: number,
    event: ParsedEvent,
    readonly source: string,
    private readonly sequence: number,
    readonly timestamp: number,
    trace?: RequestTraceContext,
  ) {
    this.id = event.id ?? `http-${sequence}`;
    this.key = event.key;
    this.payload = event.payload;
    // An event's own traceparent wins; else the request's, so that tracing and dead letters
    // continue the caller's trace. Sluice does not start a span per request: with `ack:
    // processed` the caller's own client span already covers it.
    this.headers = trace ? inheritTraceContext(event.headers, trace.traceparent, trace.tracestate) : event.headers;
  }

  get position(): Position {
    return { partition: 'http', offset: String(this.sequence) };
  }

  /** Whether this event belongs to `batch` (to take a request's events back from the queue). */
  of(batch: RequestBatch): boolean {
    return this.batch === batch;
  }

  ack(outcome: AckOutcome = 'processed'): void {
    if (this.done) return;
    this.done = true;
    this.batch.settle(this.index, outcome);
  }

  nack(reason?: Error): void {
    if (this.done) return;
    this.done = true;
    this.batch.settle(this.index, 'failed', reason);
  }
}
