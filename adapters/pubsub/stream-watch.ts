import type { Subscription } from '@google-cloud/pubsub';
import type { Logger } from 'pino';
import { errorMessage, type SluiceError } from '../../src/errors.ts';
import { Backoff, withTimeout } from '../../src/source-kit/index.ts';
import { GrpcCode, grpcCode, toSluiceError } from './client.ts';
import type { PubSubConfig } from './config.ts';
import type { PubSubMetrics } from './metrics.ts';
import { Reachability } from './reachability.ts';

/** A stream error older than this, with no error since, no longer makes the source unready. */
const ERROR_WINDOW_MS = 30_000;
const REOPEN_INITIAL_DELAY_MS = 500;
const REOPEN_MAX_DELAY_MS = 30_000;

/** What the watch needs of the source. */
export interface WatchedSource {
  /** stop() or close() was called: no reopening, no probing. */
  readonly stopped: boolean;
  readonly closed: boolean;
  /** Messages received and not yet settled: reopening the streams would nack them. */
  readonly outstanding: number;
  /** The stream failed for good (the subscription is gone or no longer readable). */
  fatal(error: SluiceError): void;
}

/**
 * The health of one subscription's streams, and their recovery: stream errors (a recent one with
 * no message since makes the source unready), a {@link Reachability} probe (the client retries a
 * cut stream silently), reopening after the client gave up (with the kit's backoff; fatal for a
 * subscription that is gone or refused), and reopening at once when the server answers again.
 */
export class StreamWatch {
  private lastError: { message: string; at: number; error: Error } | undefined;
  private lastMessageAt = 0;
  private readonly reopenBackoff = new Backoff(REOPEN_INITIAL_DELAY_MS, REOPEN_MAX_DELAY_MS);
  private reopening = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private readonly reachability: Reachability;

  constructor(
    private readonly subscription: Subscription,
    /** The subscription's full name, for health and errors. */
    private readonly name: string,
    private readonly source: WatchedSource,
    private readonly config: PubSubConfig,
    private readonly metrics: PubSubMetrics,
    private readonly logger: Logger,
  ) {
    this.reachability = new Reachability(
      (timeout) => subscription.getMetadata({ timeout, maxRetries: 0 }),
      config.probe.intervalMs,
      config.probe.timeoutMs,
      logger,
      () => void this.reopenStreams(),
    );
  }

  /** Listens to the subscription (before its 'message' listener opens the streaming pull). */
  start(): void {
    this.subscription.on('error', this.onError);
    this.subscription.on('close', this.onClose);
    this.subscription.on('debug', this.onDebug);
    this.reachability.start();
  }

  /** A message arrived: the stream works. */
  alive(now: number): void {
    this.lastMessageAt = now;
    this.reopenBackoff.reset();
    this.reachability.alive(now);
  }

  /** Stops timers and probes (close). */
  stop(): void {
    clearTimeout(this.reopenTimer);
    this.reachability.stop();
  }

  /** After subscription.close(): errors of a cancelled stream must not crash the process. */
  detach(): void {
    const subscription = this.subscription;
    subscription.removeListener('close', this.onClose);
    subscription.removeListener('debug', this.onDebug);
    subscription.removeListener('error', this.onError);
    subscription.on('error', () => undefined);
  }

  /** Why the streams are not usable now, or undefined. */
  problem(): string | undefined {
    const name = this.name;
    if (!this.subscription.isOpen) {
      return `pubsub subscription ${name}: stream closed${this.lastError ? ` (${this.lastError.message})` : ''}, reopening`;
    }
    const unreachable = this.reachability.describe();
    if (unreachable) return `pubsub subscription ${name}: server ${unreachable}`;
    const error = this.lastError;
    if (error && error.at > this.lastMessageAt && Date.now() - error.at < ERROR_WINDOW_MS) {
      return `pubsub subscription ${name}: stream error: ${error.message}`;
    }
    return undefined;
  }

  private readonly onError = (error: Error): void => {
    this.metrics.streamErrors++;
    const message = errorMessage(error) || `gRPC status ${(error as { code?: unknown }).code ?? 'unknown'}`;
    this.lastError = { message, at: Date.now(), error };
    if (this.source.closed) return;
    this.logger.warn({ error: message, code: (error as { code?: unknown }).code }, 'pubsub stream error');
  };

  /** The client reports a stream that ended (it retries it by itself): is the server still there? */
  private readonly onDebug = (message: { error?: unknown }): void => {
    if (!message.error || this.source.closed || this.source.stopped) return;
    void this.reachability.probe();
  };

  /**
   * The client closed the subscriber by itself: its stream ended with a status it does not retry
   * (it nacked what it held, so those messages come again). A subscription that is gone or no
   * longer readable will not come back by retrying: that is fatal (Sluice stops and exits
   * non-zero, and a restart fails start() with a clear error). Anything else: open it again,
   * with backoff.
   */
  private readonly onClose = (): void => {
    if (this.source.closed || this.source.stopped || this.reopening) return;
    const last = this.lastError;
    const code = grpcCode(last?.error);
    if (last && (code === GrpcCode.NOT_FOUND || code === GrpcCode.PERMISSION_DENIED || code === GrpcCode.UNAUTHENTICATED)) {
      const error = toSluiceError(last.error, `subscription ${this.name}`, this.config);
      this.logger.error({ error: error.message }, 'pubsub stream failed for good');
      this.source.fatal(error);
      return;
    }
    const delay = this.reopenBackoff.next();
    this.logger.warn({ delayMs: Math.round(delay), lastError: last?.message }, 'pubsub stream closed unexpectedly; reopening');
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      if (this.source.closed || this.source.stopped || this.subscription.isOpen) return;
      this.subscription.open();
    }, delay);
    this.reopenTimer.unref();
  };

  /**
   * The server answers again after an outage: reopen the streams now instead of waiting for the
   * client's retry backoff (it doubles up to 60 s, so after a long cut the backlog could wait
   * that long). Only when the source holds nothing: closing nacks what the client holds.
   */
  private async reopenStreams(): Promise<void> {
    const subscription = this.subscription;
    const source = this.source;
    if (source.closed || source.stopped || this.reopening || source.outstanding > 0) return;
    this.reopening = true;
    try {
      await withTimeout(subscription.close(), this.config.closeTimeoutMs + 1000, 'closing the streams');
    } catch (error) {
      this.logger.warn({ error: errorMessage(error) }, 'pubsub: closing the streams to reopen them failed');
    } finally {
      this.reopening = false;
    }
    if (source.closed || source.stopped || subscription.isOpen) return;
    this.logger.info('pubsub: reopening the streams now that the server answers');
    subscription.open();
  }
}
