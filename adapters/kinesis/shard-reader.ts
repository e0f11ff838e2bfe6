import { GetRecordsCommand, GetShardIteratorCommand, type _Record, type GetShardIteratorInput } from '@aws-sdk/client-kinesis';
import type { Logger } from 'pino';
import { errorMessage } from '../../src/errors.ts';
import { awsErrorKind, PersistentFailure, toSluiceError } from './aws-errors.ts';
import { Backoff, sleep } from '../../src/source-kit/index.ts';
import type { Sendable } from './clients.ts';
import { AT_TIMESTAMP, LATEST, TRIM_HORIZON, isSequenceNumber } from './lease.ts';
import { KinesisMetrics } from './metrics.ts';

/** What a reader hands the shard consumer per call. */
export interface ShardBatch {
  readonly records: readonly _Record[];
  readonly millisBehindLatest: number | undefined;
  /** The shard is closed and every record of it was returned: there is no next batch. */
  readonly end: boolean;
  readonly childShardIds: readonly string[];
}

/** Reads one shard, in order. Polling (GetRecords) and enhanced fan-out implement it. */
export interface ShardReader {
  /**
   * The next batch of at most `limit` records (an empty one when nothing is new). Throttling,
   * expired iterators and network failures are handled inside; it rejects only once `signal`
   * aborted.
   */
  next(limit: number): Promise<ShardBatch>;
  close(): void;
}

/** Where a shard's reading starts: a checkpoint (sequence number) or an initial position. */
export function iteratorStart(checkpoint: string, timestamp: Date | undefined): Omit<GetShardIteratorInput, 'StreamName' | 'ShardId'> {
  if (isSequenceNumber(checkpoint)) return { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: checkpoint };
  if (checkpoint === AT_TIMESTAMP) return { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: timestamp ?? new Date(0) };
  if (checkpoint === LATEST) return { ShardIteratorType: 'LATEST' };
  return { ShardIteratorType: TRIM_HORIZON };
}

export interface PollingOptions {
  pollIntervalMs: number;
  throttleBackoffMs: number;
  startTimestamp: Date | undefined;
  /** Non-retriable failures lasting this long are reported to `onFatal` (0: never). */
  fatalAfterMs: number;
  onFatal?: (error: Error) => void;
}

export class ReaderAborted extends Error {
  constructor() {
    super('shard reader stopped');
  }
}

/**
 * Polls a shard with GetRecords. Calls start at least `pollIntervalMs` apart (Kinesis allows
 * five per second per shard), so a slow call is not followed by an extra wait. Throttling backs
 * off exponentially; an expired iterator (older than five minutes, e.g. after a long
 * backpressure pause) is replaced by one AFTER_SEQUENCE_NUMBER of the last record returned.
 * Any other failure is logged and retried with backoff: a reader never gives up a shard on its
 * own, the lease decides who reads.
 */
export class PollingShardReader implements ShardReader {
  private iterator: string | undefined;
  private lastSequence: string | undefined;
  private lastCallAt = 0;
  private readonly backoff: Backoff;
  private failure: string | undefined;
  private readonly persistent: PersistentFailure;

  constructor(
    private readonly client: Sendable,
    private readonly stream: string,
    private readonly shardId: string,
    private readonly checkpoint: string,
    private readonly options: PollingOptions,
    private readonly signal: AbortSignal,
    private readonly logger: Logger,
    private readonly metrics: KinesisMetrics = KinesisMetrics.unregistered(),
  ) {
    this.backoff = new Backoff(options.throttleBackoffMs, 10_000);
    this.persistent = new PersistentFailure(options.fatalAfterMs);
  }

  async next(limit: number): Promise<ShardBatch> {
    for (;;) {
      await sleep(this.lastCallAt + this.options.pollIntervalMs - Date.now(), this.signal);
      if (this.signal.aborted) throw new ReaderAborted();
      try {
        this.iterator ??= await this.getIterator();
        this.lastCallAt = Date.now();
        const result = await this.client.send(new GetRecordsCommand({ ShardIterator: this.iterator, Limit: limit }), {
          abortSignal: this.signal,
        });
        this.backoff.reset();
        this.persistent.succeeded();
        if (this.failure) {
          this.logger.info({ shard: this.shardId }, 'kinesis: shard reading recovered');
          this.failure = undefined;
        }
        const records = (result.Records ?? []) as _Record[];
        if (records.length > 0) this.lastSequence = records[records.length - 1]!.SequenceNumber;
        this.iterator = result.NextShardIterator ?? undefined;
        return {
          records,
          millisBehindLatest: result.MillisBehindLatest,
          end: !result.NextShardIterator,
          childShardIds: (result.ChildShards ?? []).map((child: { ShardId?: string }) => child.ShardId!),
        };
      } catch (error) {
        if (this.signal.aborted) throw new ReaderAborted();
        await this.recover(error);
      }
    }
  }

  close(): void {}

  private async getIterator(): Promise<string> {
    const start = this.lastSequence
      ? ({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: this.lastSequence } as const)
      : iteratorStart(this.checkpoint, this.options.startTimestamp);
    this.lastCallAt = Date.now();
    const result = await this.client.send(new GetShardIteratorCommand({ StreamName: this.stream, ShardId: this.shardId, ...start }), {
      abortSignal: this.signal,
    });
    return result.ShardIterator!;
  }

  private async recover(error: unknown): Promise<void> {
    const kind = awsErrorKind(error);
    if (this.persistent.failed(kind)) {
      this.options.onFatal?.(
        toSluiceError(error, `kinesis shard ${this.shardId} of ${this.stream}: failing for ${this.options.fatalAfterMs} ms`),
      );
    }
    if (kind === 'expired-iterator') {
      this.iterator = undefined;
      this.metrics.iteratorRenewed();
      this.logger.debug({ shard: this.shardId, after: this.lastSequence }, 'kinesis: shard iterator expired; getting a new one');
      return;
    }
    if (kind === 'throttled') {
      this.metrics.throttle(this.iterator ? 'GetRecords' : 'GetShardIterator');
    } else {
      const message = errorMessage(error);
      if (message !== this.failure)
        this.logger.warn({ shard: this.shardId, error: message, kind }, 'kinesis: shard read failed; retrying with backoff');
      this.failure = message;
      // A failed GetRecords may have consumed the iterator; a new one costs little.
      if (kind !== 'transient') this.iterator = undefined;
    }
    await sleep(this.backoff.next(), this.signal);
  }

  get error(): string | undefined {
    return this.failure;
  }
}

/** Creates enhanced fan-out readers once the stream consumer is registered. */
export interface FanOutFactory {
  /** Registers the stream consumer if needed and waits until it is ACTIVE. */
  prepare(signal: AbortSignal): Promise<void>;
  reader(shardId: string, checkpoint: string, signal: AbortSignal, onFatal: (error: Error) => void): ShardReader;
  close(): Promise<void>;
}
