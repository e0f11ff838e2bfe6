import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  RegisterStreamConsumerCommand,
  SubscribeToShardCommand,
  type _Record,
  type StartingPosition,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';
import type { Logger } from 'pino';
import { errorMessage } from '../../src/errors.ts';
import { awsErrorKind, PersistentFailure, toSluiceError } from './aws-errors.ts';
import { Backoff, sleep } from '../../src/source-kit/index.ts';
import type { Sendable } from './clients.ts';
import { KinesisMetrics } from './metrics.ts';
import { type FanOutFactory, iteratorStart, ReaderAborted, type ShardBatch, type ShardReader } from './shard-reader.ts';

export interface FanOutOptions {
  startTimestamp: Date | undefined;
  throttleBackoffMs: number;
  /** Non-retriable failures lasting this long are reported to the reader's `onFatal` (0: never). */
  fatalAfterMs: number;
}

/** A subscription that sent nothing for this long is presumed dead (AWS sends an event at least every few seconds). */
const IDLE_TIMEOUT_MS = 60_000;

/**
 * Enhanced fan-out (`consumer.type: efo`): a registered stream consumer, and per shard a
 * SubscribeToShard event stream over HTTP/2 that Kinesis pushes records into (2 MB/s per shard
 * for this consumer alone, ~70 ms latency, no polling).
 *
 * The consumer is registered on first start (named `consumer.efoName`, default `application`)
 * and shared by every instance of the application; it is not deregistered on close.
 */
export class FanOut implements FanOutFactory {
  private consumerArn: string | undefined;

  constructor(
    private readonly control: Sendable,
    private readonly subscriber: Sendable,
    private readonly stream: string,
    private readonly consumerName: string,
    private readonly options: FanOutOptions,
    private readonly logger: Logger,
    private readonly metrics: KinesisMetrics = KinesisMetrics.unregistered(),
  ) {}

  async prepare(signal: AbortSignal): Promise<void> {
    const what = `kinesis stream consumer ${this.consumerName} of ${this.stream}`;
    try {
      const summary = await this.control.send(new DescribeStreamSummaryCommand({ StreamName: this.stream }), { abortSignal: signal });
      const streamArn = summary.StreamDescriptionSummary!.StreamARN!;
      let status = await this.describe(streamArn, signal);
      if (status === undefined) {
        try {
          await this.control.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: this.consumerName }), {
            abortSignal: signal,
          });
          this.logger.info({ stream: this.stream, consumer: this.consumerName }, 'kinesis: enhanced fan-out consumer registered');
        } catch (error) {
          if (awsErrorKind(error) !== 'in-use') throw error; // another instance registered it
        }
        status = await this.describe(streamArn, signal);
      }
      while (status !== 'ACTIVE') {
        await sleep(250, signal);
        if (signal.aborted) throw new Error(`still ${status ?? 'missing'}`);
        status = await this.describe(streamArn, signal);
      }
    } catch (error) {
      throw toSluiceError(error, what);
    }
  }

  private async describe(streamArn: string, signal: AbortSignal): Promise<string | undefined> {
    try {
      const result = await this.control.send(new DescribeStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: this.consumerName }), {
        abortSignal: signal,
      });
      this.consumerArn = result.ConsumerDescription?.ConsumerARN;
      return result.ConsumerDescription?.ConsumerStatus;
    } catch (error) {
      if (awsErrorKind(error) === 'not-found') return undefined;
      throw error;
    }
  }

  reader(shardId: string, checkpoint: string, signal: AbortSignal, onFatal: (error: Error) => void): ShardReader {
    return new FanOutShardReader(
      this.subscriber,
      this.consumerArn!,
      shardId,
      checkpoint,
      this.options,
      signal,
      this.logger,
      this.metrics,
      onFatal,
    );
  }

  async close(): Promise<void> {}
}

/**
 * One shard's subscription. A subscription lasts at most five minutes (then Kinesis ends the
 * stream) and may fail at any time; the reader subscribes again AFTER_SEQUENCE_NUMBER of the
 * ContinuationSequenceNumber of the last event it handed over (the last record's sequence
 * number or later: where the shard's reading stands even when nothing was written). Records
 * of one event beyond `limit` wait in the reader for the next call; while the consumer is
 * delivering, the event stream is not read, and HTTP/2 flow control pauses the server.
 */
export class FanOutShardReader implements ShardReader {
  private events: AsyncIterator<SubscribeToShardEventStream> | undefined;
  private subscription: AbortController | undefined;
  private continuation: string | undefined;
  private pending: _Record[] = [];
  private pendingBatch: Omit<ShardBatch, 'records'> | undefined;
  private readonly backoff: Backoff;
  private failure: string | undefined;
  private readonly persistent: PersistentFailure;

  constructor(
    private readonly client: Sendable,
    private readonly consumerArn: string,
    private readonly shardId: string,
    private readonly checkpoint: string,
    private readonly options: FanOutOptions,
    private readonly signal: AbortSignal,
    private readonly logger: Logger,
    private readonly metrics: KinesisMetrics = KinesisMetrics.unregistered(),
    private readonly onFatal?: (error: Error) => void,
  ) {
    this.backoff = new Backoff(Math.max(options.throttleBackoffMs, 1_000), 10_000);
    this.persistent = new PersistentFailure(options.fatalAfterMs);
  }

  async next(limit: number): Promise<ShardBatch> {
    for (;;) {
      if (this.signal.aborted) throw new ReaderAborted();
      if (this.pending.length > 0) return this.fromPending(limit);
      try {
        this.events ??= await this.subscribe();
        const { value, done } = await this.nextEvent(this.events);
        if (done) {
          // The subscription's five minutes are up (or the server ended it): subscribe again.
          this.dropSubscription();
          continue;
        }
        const event = value.SubscribeToShardEvent;
        if (!event) throw Object.assign(new Error(`unexpected event ${Object.keys(value).join(', ')}`), { name: Object.keys(value)[0] });
        this.backoff.reset();
        this.persistent.succeeded();
        this.failure = undefined;
        const records = (event.Records ?? []) as _Record[];
        this.continuation = event.ContinuationSequenceNumber ?? undefined;
        this.pending = records;
        this.pendingBatch = {
          millisBehindLatest: event.MillisBehindLatest,
          // No continuation: the shard is closed and its last record was sent.
          end: event.ContinuationSequenceNumber == null,
          childShardIds: (event.ChildShards ?? []).map((child) => child.ShardId!),
        };
        return this.fromPending(limit);
      } catch (error) {
        this.dropSubscription();
        if (this.signal.aborted) throw new ReaderAborted();
        await this.recover(error);
      }
    }
  }

  close(): void {
    this.dropSubscription();
  }

  private fromPending(limit: number): ShardBatch {
    const records = this.pending.splice(0, limit);
    const batch = this.pendingBatch!;
    const last = this.pending.length === 0;
    return {
      records,
      millisBehindLatest: batch.millisBehindLatest,
      end: last && batch.end,
      childShardIds: last ? batch.childShardIds : [],
    };
  }

  private startingPosition(): StartingPosition {
    if (this.continuation) return { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: this.continuation };
    const start = iteratorStart(this.checkpoint, this.options.startTimestamp);
    return { Type: start.ShardIteratorType, SequenceNumber: start.StartingSequenceNumber, Timestamp: start.Timestamp };
  }

  private async subscribe(): Promise<AsyncIterator<SubscribeToShardEventStream>> {
    const controller = new AbortController();
    this.subscription = controller;
    const abort = () => controller.abort();
    this.signal.addEventListener('abort', abort, { once: true });
    controller.signal.addEventListener('abort', () => this.signal.removeEventListener('abort', abort), { once: true });
    const result = await this.client.send(
      new SubscribeToShardCommand({ ConsumerARN: this.consumerArn, ShardId: this.shardId, StartingPosition: this.startingPosition() }),
      { abortSignal: controller.signal },
    );
    return result.EventStream![Symbol.asyncIterator]();
  }

  /** The next event, or a rejection if the subscription stays silent too long or is aborted. */
  private nextEvent(events: AsyncIterator<SubscribeToShardEventStream>): Promise<IteratorResult<SubscribeToShardEventStream>> {
    const subscription = this.subscription!;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(Object.assign(new Error(`no event for ${IDLE_TIMEOUT_MS} ms`), { name: 'TimeoutError' }));
      }, IDLE_TIMEOUT_MS);
      const onAbort = () => reject(new ReaderAborted());
      subscription.signal.addEventListener('abort', onAbort, { once: true });
      events.next().then(
        (result) => {
          clearTimeout(timer);
          subscription.signal.removeEventListener('abort', onAbort);
          resolve(result);
        },
        (error: unknown) => {
          clearTimeout(timer);
          subscription.signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  private dropSubscription(): void {
    const subscription = this.subscription;
    const events = this.events;
    this.subscription = undefined;
    this.events = undefined;
    subscription?.abort();
    void events?.return?.().catch(() => undefined);
  }

  private async recover(error: unknown): Promise<void> {
    const kind = awsErrorKind(error);
    if (this.persistent.failed(kind)) {
      this.onFatal?.(toSluiceError(error, `kinesis shard ${this.shardId} subscription: failing for ${this.options.fatalAfterMs} ms`));
    }
    if (kind === 'throttled' || kind === 'in-use') {
      // LimitExceeded: at most one SubscribeToShard per second per shard and consumer.
      // ResourceInUse: the previous subscription (ours or another instance's) is still open.
      this.metrics.throttle('SubscribeToShard');
    } else {
      const message = errorMessage(error);
      if (message !== this.failure)
        this.logger.warn(
          { shard: this.shardId, error: message, kind },
          'kinesis: shard subscription failed; subscribing again with backoff',
        );
      this.failure = message;
    }
    await sleep(this.backoff.next(), this.signal);
  }
}
