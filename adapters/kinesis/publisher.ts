import { createHash } from 'node:crypto';
import { PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { OutgoingEvent, Publisher } from '../../src/broker/contract.ts';
import { SluiceError } from '../../src/errors.ts';
import { awsErrorKind, toSluiceError } from './aws-errors.ts';
import { Backoff } from '../../src/util/backoff.ts';
import { sleep } from '../../src/util/sleep.ts';
import type { Sendable } from './clients.ts';
import type { KinesisConfig } from './config.ts';
import { wrapEnvelope } from './envelope.ts';
import { KinesisMetrics } from './metrics.ts';

/** PutRecords limits. */
export const MAX_RECORDS_PER_CALL = 500;
export const MAX_BYTES_PER_CALL = 5 * 1024 * 1024;
export const MAX_BYTES_PER_RECORD = 1024 * 1024;
const MAX_PARTITION_KEY_LENGTH = 256;

interface Entry {
  readonly request: PutRecordsRequestEntry;
  readonly bytes: number;
}

/**
 * Publishes with PutRecords: batches of at most 500 records and 5 MB, sent one after the other
 * so a key's events keep their order across batches. When Kinesis rejects some entries of a
 * call (throttled shard, internal failure) only those are sent again, with backoff.
 *
 * Order caveat, as with the KPL: if an entry fails and a later entry of the same key in the
 * same call succeeds, the retried one lands after it. Kinesis offers no way to prevent that
 * short of one record per key per call.
 *
 * Partition key: the event key (hashed to 32 hex characters if longer than Kinesis' 256), or a
 * cheap counter-based key that spreads keyless events over the shards.
 */
export class KinesisPublisher implements Publisher {
  private counter = 0;

  constructor(
    private readonly client: Sendable,
    private readonly options: KinesisConfig['publish'],
    private readonly metrics: KinesisMetrics = KinesisMetrics.unregistered(),
    private readonly ownsClient = false,
  ) {}

  async connect(): Promise<void> {}

  async publish(destination: string, events: readonly OutgoingEvent[]): Promise<void> {
    let batch: Entry[] = [];
    let batchBytes = 0;
    for (const event of events) {
      const entry = this.entry(event);
      if (batch.length === MAX_RECORDS_PER_CALL || batchBytes + entry.bytes > MAX_BYTES_PER_CALL) {
        await this.send(destination, batch);
        batch = [];
        batchBytes = 0;
      }
      batch.push(entry);
      batchBytes += entry.bytes;
    }
    if (batch.length > 0) await this.send(destination, batch);
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }

  private entry(event: OutgoingEvent): Entry {
    const headers = event.headers;
    const data =
      this.options.headers === 'envelope' && headers && Object.keys(headers).length > 0
        ? wrapEnvelope(event.payload, headers)
        : event.payload;
    const key = partitionKey(event.key) ?? `r${(this.counter++).toString(36)}`;
    const bytes = data.length + Buffer.byteLength(key);
    if (bytes > MAX_BYTES_PER_RECORD) {
      throw new SluiceError(
        `kinesis publish: a record of ${bytes} bytes exceeds the 1 MiB limit (payload plus partition key${data === event.payload ? '' : ' plus header envelope'})`,
      );
    }
    return { request: { Data: data, PartitionKey: key }, bytes };
  }

  private async send(destination: string, entries: Entry[]): Promise<void> {
    const backoff = new Backoff(this.options.initialBackoffMs, this.options.maxBackoffMs);
    const stream = destination.startsWith('arn:') ? { StreamARN: destination } : { StreamName: destination };
    let pending = entries;
    let lastError = '';
    for (let attempt = 1; attempt <= this.options.maxAttempts; attempt++) {
      if (attempt > 1) await sleep(backoff.next());
      try {
        const result = await this.client.send(new PutRecordsCommand({ ...stream, Records: pending.map((entry) => entry.request) }));
        if (!result.FailedRecordCount) return;
        const failed: Entry[] = [];
        const results = result.Records ?? [];
        for (let i = 0; i < pending.length; i++) {
          const outcome = results[i];
          if (!outcome || outcome.ErrorCode) {
            failed.push(pending[i]!);
            lastError = outcome?.ErrorCode ? `${outcome.ErrorCode}: ${outcome.ErrorMessage ?? ''}` : 'no result';
            if (outcome?.ErrorCode === 'ProvisionedThroughputExceededException') this.metrics.throttle('PutRecords');
          }
        }
        pending = failed;
      } catch (error) {
        const kind = awsErrorKind(error);
        if (kind === 'throttled') this.metrics.throttle('PutRecords');
        if (kind !== 'throttled' && kind !== 'transient') throw toSluiceError(error, `kinesis PutRecords to ${destination}`);
        lastError = (error as Error).message;
      }
    }
    throw new SluiceError(
      `kinesis PutRecords to ${destination}: ${pending.length} of ${entries.length} records not accepted after ${this.options.maxAttempts} tries (${lastError})`,
      { retriable: true },
    );
  }
}

function partitionKey(key: string | undefined): string | undefined {
  if (key === undefined || key === '') return undefined;
  if (key.length <= MAX_PARTITION_KEY_LENGTH) return key;
  return createHash('md5').update(key).digest('hex');
}
