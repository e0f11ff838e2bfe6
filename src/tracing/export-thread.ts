import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { compiled, moduleUrl } from '../util/runtime.ts';
import { withTimeout } from '../util/with-timeout.ts';
import type { EventSpan, ExportStats, SpanSink } from './event-span.ts';
import { type EncodedSpans, SpanBatchWriter } from './span-codec.ts';
import type { TracingSettings } from './settings.ts';

/** What the export thread is started with. */
export interface ExportThreadData {
  endpoint: string;
  headers: Record<string, string>;
  exportTimeoutMs: number;
  serviceName: string;
  /** Spans per OTLP export, and the longest they wait for one to fill ({@link ExportThreadLimits}). */
  exportBatch: number;
  exportDelayMs: number;
}

/** `spans`: `count` spans, as span-codec.ts encodes them. */
export type ToExportThread = { type: 'spans'; batch: EncodedSpans } | { type: 'flush'; id: number };
type FromExportThread =
  | { type: 'exported'; count: number; cpuMicros: number; error?: string }
  | { type: 'flushed'; id: number }
  | { type: 'warn'; message: string }
  | { type: 'ready' };

export interface ExportThreadLimits {
  /**
   * Spans sent to the thread in one message: its buffer is transferred, not copied, so a message
   * costs a fixed amount whatever it holds, and most when it must wake an idle thread (at 1 %
   * sampling the thread sleeps between messages: a cpu-prof of bench:tracing showed postMessage
   * at ~60 µs a message there). 1,024 spans a message (128 before) took the event loop's extra
   * CPU at 1 % from 22–29 to 3–16 ns an event and the thread's from 2.3–2.4 to 1.6–1.7 µs a span
   * in two interleaved runs; a span waits at most `delayMs` on the event loop either way.
   */
  readonly batch: number;
  /** Spans the thread puts in one OTLP export (as the BatchSpanProcessor's maxExportBatchSize). */
  readonly exportBatch: number;
  /** Longest spans wait on the thread for an export to fill up (a partly full one goes then). */
  readonly exportDelayMs: number;
  /** Spans ended and not yet exported, at most; more are dropped and counted (a slow or absent collector never grows memory). */
  readonly queue: number;
  /** Longest a span waits on the event loop before it is sent. */
  readonly delayMs: number;
}

const DEFAULT_LIMITS: ExportThreadLimits = { batch: 1024, exportBatch: 512, exportDelayMs: 1000, queue: 4096, delayMs: 500 };

/**
 * Where Sluice's event spans go when they end: batched on the event loop (one message with a
 * transferred binary buffer per {@link ExportThreadLimits.batch} spans, span-codec.ts) to a worker thread that serializes them to
 * OTLP protobuf and exports them over HTTP (export-thread-main.ts). Serialization, the costliest
 * part of a span, then runs beside the event loop instead of in it, as the SDK's
 * BatchSpanProcessor would run it every 512 spans.
 *
 * Bounded like the BatchSpanProcessor: at most {@link ExportThreadLimits.queue} spans between
 * their end and their export's answer; beyond that spans are dropped, counted in
 * {@link dropped}, and logged (at most once a minute). The thread is unref'd: it never keeps the
 * process alive; {@link shutdown} sends what is buffered and waits for its export.
 */
export class ExportThread implements SpanSink {
  /** Spans dropped because the queue was full (the collector slow or unreachable). */
  dropped = 0;
  /** Spans the thread has exported (or failed to), and its CPU time so far as of the last (µs). */
  exported = 0;
  threadCpuMicros = 0;
  /** The spans waiting to be sent, encoded (span-codec.ts). */
  private readonly batch = new SpanBatchWriter();
  private unanswered = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly worker: Worker;
  private readonly flushes = new Map<number, () => void>();
  private nextFlush = 0;
  private lastWarning = Number.NEGATIVE_INFINITY;
  private droppedLogged = 0;
  private signalReady: () => void = () => undefined;
  private signalFailed: (error: Error) => void = () => undefined;
  /** Resolves when the thread has loaded the exporter; rejects if it cannot start. */
  readonly ready = new Promise<void>((resolve, reject) => {
    this.signalReady = resolve;
    this.signalFailed = reject;
  });

  constructor(
    settings: TracingSettings,
    private readonly logger: Logger,
    private readonly limits: ExportThreadLimits = DEFAULT_LIMITS,
  ) {
    const data: ExportThreadData = {
      endpoint: settings.endpoint,
      headers: { ...settings.headers },
      exportTimeoutMs: settings.exportTimeoutMs,
      serviceName: settings.serviceName,
      exportBatch: limits.exportBatch,
      exportDelayMs: limits.exportDelayMs,
    };
    // Compiled, the thread runs export-thread-main.js; from the sources, the .mjs shim that
    // registers tsx (worker threads do not inherit the parent's loader).
    const entry = compiled ? moduleUrl('./export-thread-main.ts', import.meta.url) : new URL('./export-thread.mjs', import.meta.url);
    this.worker = new Worker(entry, { workerData: data, name: 'sluice span export' });
    this.worker.unref();
    this.worker.on('message', (message: FromExportThread) => this.answer(message));
    this.worker.on('error', (error) => {
      this.signalFailed(error);
      this.logger.warn({ error: String(error) }, 'tracing: the span export thread failed');
    });
    this.ready.catch(() => undefined); // also reported through the log above
  }

  stats(): ExportStats {
    return { exported: this.exported, dropped: this.dropped, threadCpuMicros: this.threadCpuMicros };
  }

  ended(span: EventSpan): void {
    if (this.batch.count + this.unanswered >= this.limits.queue) {
      this.dropped++;
      this.warnDropped();
      return;
    }
    this.batch.write(span);
    if (this.batch.count >= this.limits.batch) this.send();
    else this.timer ??= setTimeout(() => this.send(), this.limits.delayMs).unref();
  }

  /** Sends what is buffered and resolves once the thread has exported it (or failed to). */
  flush(): Promise<void> {
    this.send();
    const id = this.nextFlush++;
    const flushed = new Promise<void>((resolve) => this.flushes.set(id, resolve));
    this.worker.postMessage({ type: 'flush', id } satisfies ToExportThread);
    return flushed;
  }

  /** Sends what is buffered and waits until the thread exported it (at most `timeoutMs`), then stops the thread. */
  async shutdown(timeoutMs: number): Promise<void> {
    try {
      await withTimeout(this.flush(), timeoutMs, 'exporting the last spans');
    } catch (error) {
      this.logger.warn({ error: String(error) }, 'tracing: exporting the last spans failed');
    } finally {
      await this.worker.terminate();
    }
  }

  private send(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.count === 0) return;
    const batch = this.batch.take();
    this.unanswered += batch.count;
    this.worker.postMessage({ type: 'spans', batch } satisfies ToExportThread, [batch.buffer]);
  }

  private answer(message: FromExportThread): void {
    if (message.type === 'exported') {
      this.unanswered -= message.count;
      this.exported += message.count;
      this.threadCpuMicros = message.cpuMicros;
      if (message.error !== undefined) this.warn({ error: message.error, spans: message.count }, 'tracing: a span export failed');
    } else if (message.type === 'ready') this.signalReady();
    else if (message.type === 'flushed') {
      this.flushes.get(message.id)?.();
      this.flushes.delete(message.id);
    } else this.warn({ error: message.message }, 'tracing: the OTLP exporter warns');
  }

  private warnDropped(): void {
    if (this.warn({ dropped: this.dropped - this.droppedLogged, queue: this.limits.queue }, 'tracing: span queue full, spans dropped'))
      this.droppedLogged = this.dropped;
  }

  /** At most one warning a minute: a collector that is down must not flood the log. */
  private warn(fields: object, message: string): boolean {
    const at = performance.now();
    if (at - this.lastWarning < 60_000) return false;
    this.lastWarning = at;
    this.logger.warn(fields, message);
    return true;
  }
}
