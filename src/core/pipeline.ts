import type { Logger } from 'pino';
import type { AckAudit } from '../audit/ack-audit.ts';
import type { EventSink, Source, SourceEvent } from '../broker/contract.ts';
import type { DeadLetterSink } from '../dead-letter/dead-letter.ts';
import { SluiceError } from '../errors.ts';
import type { Handler } from '../handler/handler.ts';
import type { EventTracer } from '../tracing/event-tracer.ts';
import { PipelineStats } from './pipeline-stats.ts';
import { BoundedQueue, type OverflowPolicy } from './bounded-queue.ts';
import { EventProcessor } from './event-processor.ts';
import { WorkerPool } from './worker-pool.ts';

export interface PipelineOptions {
  broker: string;
  queue: { maxEvents: number; maxBytes: number; policy: OverflowPolicy };
  pool: { size: number; orderByKey: boolean };
  /** Graceful-shutdown bound: how long in-flight and queued events may take to finish. */
  shutdownTimeoutMs: number;
  /** Not ready when events wait but none completed for this long. */
  stallTimeoutMs: number;
}

export interface PipelineParts {
  source: Source;
  /** The handler with its wrappers (retry, timeout) already applied. */
  handler: Handler;
  deadLetter?: DeadLetterSink;
  /** The ack audit (`audit.file`): completions are recorded before their acks; closed last. */
  audit?: AckAudit;
  logger: Logger;
  /** Aborted when the shutdown bound is hit, so retry backoffs stop waiting. */
  abort?: AbortController;
  /** Run after the source closed: the handler's own resources (worker threads). */
  onClose?: () => Promise<void>;
  /** Tracing (`tracing.enabled`); shut down (its spans exported) last. */
  tracer?: EventTracer;
  /**
   * With tracing: make a traced event's span the active OpenTelemetry context while the handler
   * runs, so that spans the handler starts with `@opentelemetry/api` are its children (default
   * true). False for the built-in handlers (noop, log, forward), which start none and read
   * `context.span` where they need it: entering the context is most of what a traced event costs
   * the event loop (bench:tracing), for nothing a built-in handler could see.
   */
  activeSpan?: boolean;
}

export type PipelineState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

/**
 * The processing core: source → bounded queue → worker pool → handler → ack. It knows nothing
 * of which broker it runs on.
 */
export class Pipeline {
  readonly stats = new PipelineStats();
  readonly queue: BoundedQueue;
  readonly pool: WorkerPool;
  private stateValue: PipelineState = 'new';
  private pausedSince: number | undefined;
  private lastCompleted = 0;
  private lastProgressAt = Date.now();
  private stopping: Promise<void> | undefined;
  private readonly abort: AbortController;
  /** The sink a source delivers into. */
  readonly sink: EventSink;

  constructor(
    readonly options: PipelineOptions,
    private readonly parts: PipelineParts,
  ) {
    this.abort = parts.abort ?? new AbortController();
    this.queue = new BoundedQueue({
      ...options.queue,
      onDrop: (event) => {
        // A lossy policy chose to lose it: ack so the broker does not redeliver, and count it.
        parts.audit?.dropped(event.id);
        event.ack('dropped');
        parts.tracer?.abandoned(event, 'dropped');
        this.stats.processed.dropped++;
      },
    });
    const processor = new EventProcessor(
      parts.handler,
      parts.deadLetter,
      this.stats,
      options.broker,
      parts.logger,
      parts.audit,
      parts.tracer,
      parts.activeSpan ?? true,
    );
    this.pool = new WorkerPool(
      this.queue,
      options.pool.size,
      (event, continued) => processor.process(event, continued),
      options.pool.orderByKey,
      () => processor.settle(),
    );
    const capacity = { events: options.queue.maxEvents, bytes: options.queue.maxBytes };
    this.sink = {
      deliver: (events) => this.deliver(events),
      maxBatch: maxBatchFor(capacity.events),
      capacity,
      discard: (predicate) => this.discard(predicate),
      fatal: (error) => this.fatal(error),
    };
  }

  /**
   * Takes back events no worker has started (the sink's discard). A traced one's span ends as
   * `discarded`: the source either hands the same event back later (a nack kept its key's order)
   * and a new span starts then, or the next owner of its partition delivers it again.
   */
  private discard(predicate: (event: SourceEvent) => boolean): SourceEvent[] {
    const taken = [...this.queue.discard(predicate), ...this.pool.discardSetAside(predicate)];
    const tracer = this.parts.tracer;
    if (tracer !== undefined) for (const event of taken) tracer.abandoned(event, 'discarded');
    return taken;
  }

  /** The source this pipeline reads (for its metrics: lag and commits). */
  get source(): Source {
    return this.parts.source;
  }

  /** Set when the source reported a fatal error; the pipeline then stops by itself. */
  failure: Error | undefined;
  private readonly failureListeners: ((error: Error) => void)[] = [];

  /** Calls `listener` once if the source fails for good (see EventSink.fatal). */
  onFailure(listener: (error: Error) => void): void {
    this.failureListeners.push(listener);
  }

  private fatal(error: Error): void {
    if (this.failure || this.stateValue === 'stopping' || this.stateValue === 'stopped') return;
    this.failure = error;
    this.parts.logger.error({ error: error.message }, 'source failed for good: stopping');
    for (const listener of this.failureListeners) listener(error);
    void this.stop();
  }

  private deliver(events: SourceEvent[]): Promise<void> {
    this.stats.received += events.length;
    // Before the queue sees them: a span's start is when the event arrived, full queue or not.
    if (this.parts.tracer !== undefined) this.parts.tracer.received(events);
    const accepted = this.queue.offer(events);
    if (!this.queue.blocked || this.pausedSince !== undefined) return accepted;
    this.pausedSince = performance.now();
    this.stats.pauses++;
    return accepted.then(() => {
      if (this.pausedSince !== undefined && !this.queue.blocked) {
        this.stats.pausedSeconds += (performance.now() - this.pausedSince) / 1000;
        this.pausedSince = undefined;
      }
    });
  }

  get state(): PipelineState {
    return this.stateValue;
  }

  /** True while the source waits for room in the queue. */
  get paused(): boolean {
    return this.queue.blocked;
  }

  async start(): Promise<void> {
    if (this.stateValue !== 'new') throw new SluiceError(`pipeline already ${this.stateValue}`);
    this.stateValue = 'starting';
    this.pool.start();
    try {
      await this.parts.source.start(this.sink);
    } catch (error) {
      this.queue.close();
      await this.parts.source.close().catch(() => undefined);
      this.parts.audit?.close();
      this.stateValue = 'stopped';
      throw error;
    }
    this.stateValue = 'running';
  }

  /**
   * Graceful stop: stop fetching, let queued and in-flight events finish within the shutdown
   * bound, nack whatever is left (so the broker delivers it again at once), commit, close.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** Live: the process works. Ready: connected to the broker and not stalled. */
  health(): { live: boolean; ready: boolean; detail: string } {
    const source = this.parts.source.health();
    const stalled = this.stalled();
    const ready = this.stateValue === 'running' && source.connected && !stalled;
    const detail = stalled
      ? `stalled: ${this.queue.depth} events waiting, none completed for ${Math.round((Date.now() - this.lastProgressAt) / 1000)} s`
      : (source.detail ?? (source.connected ? 'connected' : 'not connected'));
    const live = this.stateValue !== 'stopped' && !this.failure;
    return { live, ready: ready && live, detail: `${this.stateValue}; ${this.failure ? `failed: ${this.failure.message}` : detail}` };
  }

  private stalled(): boolean {
    const completed = this.stats.completed;
    const now = Date.now();
    if (completed !== this.lastCompleted || (this.queue.depth === 0 && this.pool.busy === 0)) {
      this.lastCompleted = completed;
      this.lastProgressAt = now;
      return false;
    }
    return now - this.lastProgressAt > this.options.stallTimeoutMs;
  }

  private async shutdown(): Promise<void> {
    const logger = this.parts.logger;
    this.stateValue = 'stopping';
    await this.parts.source.stop();
    this.queue.close();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.pool.done().then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.options.shutdownTimeoutMs))),
    ]);
    clearTimeout(timer);
    const leftover = [...this.queue.drainUnstarted(), ...this.pool.setAside()];
    if (timedOut) {
      this.abort.abort();
      leftover.push(...this.pool.running());
      logger.warn(
        { timeoutMs: this.options.shutdownTimeoutMs, unfinished: leftover.length },
        'shutdown timeout: nacking unfinished events',
      );
    }
    const reason = new SluiceError('sluice is shutting down', { retriable: true });
    for (const event of leftover) {
      event.nack(reason);
      this.parts.tracer?.abandoned(event, 'nacked');
    }
    await this.parts.source.close();
    // After the source's final commits, so they are in the file.
    this.parts.audit?.close();
    await this.parts.deadLetter?.close();
    await this.parts.onClose?.();
    await this.parts.tracer?.shutdown();
    this.stateValue = 'stopped';
  }
}

/** Batches of at most a quarter of the queue, so that a source can keep it fed while workers drain it. */
export function maxBatchFor(capacityEvents: number): number {
  return Math.max(1, Math.min(4096, Math.floor(capacityEvents / 4)));
}
