import type { _Record } from '@aws-sdk/client-kinesis';
import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import { DeliveredLedger } from '../../src/audit/delivered-ledger.ts';
import type { PartitionLag } from '../../src/broker/contract.ts';
import { type DeliveryLane, NO_HEADERS, type PartitionProgress } from '../../src/source-kit/index.ts';
import { errorMessage } from '../../src/errors.ts';
import { isEnvelope, unwrapEnvelope } from './envelope.ts';
import { AggregateGroup, KinesisEvent, type ShardOwner } from './kinesis-event.ts';
import { deaggregate, looksAggregated } from './kpl-deaggregate.ts';
import type { KinesisMetrics } from './metrics.ts';
import { SHARD_END } from './lease.ts';
import { ReaderAborted, type ShardReader } from './shard-reader.ts';

/** What a shard consumer needs from its source. */
export interface ConsumerContext {
  readonly stream: string;
  /** The source's one lane into the sink (every shard and the redeliveries take turns in it). */
  readonly lane: DeliveryLane;
  /** GetRecords limit before the sink's maxBatch lowers it. */
  readonly maxRecords: number;
  readonly deaggregate: boolean;
  readonly logger: Logger;
  readonly metrics: KinesisMetrics;
  /** The ack audit, when on (src/audit). */
  readonly audit?: AckAudit;
  /** A nacked event: delivered again after the nack delay (the source's Redelivery). */
  nacked(event: KinesisEvent): void;
  /**
   * What of a batch to deliver when its turn in the lane has come (Redelivery.admit: events of a
   * key with a nacked event waiting are held and come after it). Absent: all of it.
   */
  admit?(events: KinesisEvent[]): KinesisEvent[];
  /** Every record of the shard was read and processed: checkpoint SHARD_END, free the children. */
  shardEnded(consumer: ShardConsumer, childShardIds: readonly string[]): Promise<void>;
  /** The consumer stopped on an unexpected error: give the shard up so it is read again. */
  consumerFailed(consumer: ShardConsumer, error: unknown): void;
}

/** Numbers every reading of a shard in this process (see {@link ShardOwner.generation}). */
let generations = 0;

/**
 * Reads one leased shard and delivers its records in order: fetch a batch, await the lane
 * (so the shard's reads pause while its delivery is pending), fetch the next. Each Kinesis
 * record takes one ticket of the shard's {@link PartitionProgress}; the checkpointer writes the
 * highest contiguous completed one. At the shard's end it waits until every delivered record is
 * done before it reports the end, so children never start before their parent is processed.
 */
export class ShardConsumer implements ShardOwner {
  readonly generation = ++generations;
  private readonly abort = new AbortController();
  private readonly reader: ShardReader;
  private loop: Promise<void> | undefined;
  private drainedWake: (() => void) | undefined;
  /** No more acks count: the lease was lost or the source closed. */
  released = false;
  /** The shard's last record was read; waiting for the in-flight ones. */
  ending = false;
  /** Checkpoint bookkeeping (checkpointer.ts): value not yet written, value last written, write chain. */
  unwritten: string | undefined;
  written: string | undefined;
  checkpointChain: Promise<unknown> = Promise.resolve();
  /** How many of the shard's tickets (Kinesis records) {@link unwritten} / {@link written} cover. */
  unwrittenCount = 0;
  writtenCount = 0;
  /** With the ack audit on: the records delivered and not yet covered by a checkpoint. */
  private readonly delivered: DeliveredLedger | undefined;
  /** MillisBehindLatest of the last read, and when that read returned (for the lag metrics). */
  private behind = { millis: 0, at: 0 };
  /** Events built so far: each event's {@link KinesisEvent.order}. */
  private built = 0;

  constructor(
    readonly shardId: string,
    readonly progress: PartitionProgress,
    createReader: (signal: AbortSignal) => ShardReader,
    private readonly context: ConsumerContext,
  ) {
    this.reader = createReader(this.abort.signal);
    this.delivered = context.audit ? new DeliveredLedger() : undefined;
  }

  /**
   * With the audit on: writes the checkpoint about to be sent with the delivered records it
   * covers (those up to and including `value`, every one for SHARD_END). Called by the
   * checkpointer right before the write, with what it writes.
   */
  auditCheckpoint(value: string): void {
    const ledger = this.delivered;
    if (!ledger) return;
    const ids = value === SHARD_END ? ledger.takeAll() : ledger.take(value, true);
    this.context.audit!.committed([{ partition: this.shardId, position: value, ids }]);
  }

  get stream(): string {
    return this.context.stream;
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get reading(): boolean {
    return !this.released && !this.abort.signal.aborted;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops reading (acks still count until {@link released}); resolves when the loop ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.reader.close();
    this.drainedWake?.();
    await this.loop;
  }

  /**
   * The shard's lag (src/metrics/source-metrics.ts): events = records read since the last
   * checkpoint written (Kinesis does not count the records behind the tip; MillisBehindLatest is
   * a time); oldest = the oldest record read and not yet processed, or the next unread record as
   * MillisBehindLatest places it (its age keeps growing while reading is paused), whichever is older.
   */
  lag(): PartitionLag {
    const progress = this.progress;
    const pending = progress.oldestPendingTimestamp;
    const { millis, at } = this.behind;
    const unread = millis > 0 ? at - millis : undefined;
    return {
      source: this.context.stream,
      partition: this.shardId,
      events: Math.max(0, progress.tracked - this.writtenCount),
      oldestMs: pending === undefined ? unread : unread === undefined ? pending : Math.min(pending, unread),
    };
  }

  /** @internal KinesisEvent.ack */
  acked(event: KinesisEvent): void {
    if (this.released) return;
    const group = event.group;
    if (group && --group.remaining > 0) return;
    this.progress.complete(event.ticket);
    if (this.drainedWake && this.progress.idle) this.drainedWake();
  }

  /** @internal KinesisEvent.nack */
  nacked(event: KinesisEvent): void {
    if (!this.reading) return;
    this.context.nacked(event);
  }

  private async run(): Promise<void> {
    const context = this.context;
    const { lane, logger } = context;
    const admit = context.admit ? (ready: KinesisEvent[]) => context.admit!(ready) : undefined;
    const signal = this.abort.signal;
    try {
      for (;;) {
        await lane.room(signal);
        const maxBatch = lane.sink.maxBatch;
        const batch = await this.reader.next(Math.max(1, Math.min(this.context.maxRecords, maxBatch)));
        if (batch.records.length > 0) {
          const events = this.toEvents(batch.records);
          for (let i = 0; i < events.length; i += maxBatch) {
            if (!(await lane.deliver(events.slice(i, i + maxBatch), signal, admit))) return;
          }
        }
        if (batch.millisBehindLatest !== undefined) {
          this.behind = { millis: batch.millisBehindLatest, at: Date.now() };
          this.context.metrics.lag(this.shardId, batch.millisBehindLatest);
        }
        if (batch.end) {
          this.ending = true;
          await this.drained();
          if (signal.aborted) return;
          await this.context.shardEnded(this, batch.childShardIds);
          return;
        }
      }
    } catch (error) {
      if (error instanceof ReaderAborted || signal.aborted) return;
      logger.error({ shard: this.shardId, error: errorMessage(error) }, 'kinesis: shard consumer failed');
      this.context.consumerFailed(this, error);
    }
  }

  private drained(): Promise<void> {
    if (this.progress.idle || this.abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainedWake = () => {
        this.drainedWake = undefined;
        resolve();
      };
    });
  }

  /** One event per plain record, one per user record of a KPL aggregate; one ticket per Kinesis record. */
  private toEvents(records: readonly _Record[]): KinesisEvent[] {
    const events: KinesisEvent[] = [];
    const progress = this.progress;
    const firstTicket = progress.tracked;
    const fetchedAt = Date.now();
    progress.stamp(firstTicket, records.length, (i) => records[i]!.ApproximateArrivalTimestamp?.getTime() ?? fetchedAt);
    for (const record of records) {
      const sequenceNumber = record.SequenceNumber!;
      const data = toBuffer(record.Data!);
      const timestamp = record.ApproximateArrivalTimestamp?.getTime() ?? Date.now();
      const ticket = progress.track(sequenceNumber);
      const users = this.context.deaggregate && looksAggregated(data) ? deaggregate(data) : undefined;
      if (!users) {
        events.push(this.event(sequenceNumber, undefined, record.PartitionKey, data, timestamp, ticket, undefined));
        continue;
      }
      if (users.length === 0) {
        progress.complete(ticket); // an empty aggregate: nothing to process
        continue;
      }
      const group = new AggregateGroup(users.length);
      for (const user of users) {
        events.push(this.event(sequenceNumber, user.subSequenceNumber, user.partitionKey, user.data, timestamp, ticket, group));
      }
    }
    return events;
  }

  private event(
    sequenceNumber: string,
    subSequenceNumber: number | undefined,
    key: string | undefined,
    data: Buffer,
    timestamp: number,
    ticket: number,
    group: AggregateGroup | undefined,
  ): KinesisEvent {
    let payload = data;
    let headers = NO_HEADERS;
    if (isEnvelope(data)) {
      const unwrapped = unwrapEnvelope(data);
      if (unwrapped) ({ payload, headers } = unwrapped);
    }
    const event = new KinesisEvent(
      this,
      sequenceNumber,
      subSequenceNumber,
      key,
      payload,
      headers,
      timestamp,
      ticket,
      group,
      this.built++,
      1,
    );
    this.delivered?.record(sequenceNumber, event.id);
    return event;
  }
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
