import { DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DeleteStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import type { BrokerAdmin } from '../../src/broker/tooling.ts';
import { ConnectionError } from '../../src/errors.ts';
import { awsErrorKind, toSluiceError } from './aws-errors.ts';
import { sleep } from '../../src/util/sleep.ts';
import type { Sendable } from './clients.ts';

/**
 * Streams for tests and benchmarks: create with N shards (waits until ACTIVE), delete. Creating
 * a stream that exists is not an error (it waits for it to be ACTIVE), as with the other brokers.
 */
export class KinesisAdmin implements BrokerAdmin {
  constructor(
    private readonly kinesis: Sendable,
    private readonly dynamo: Sendable | undefined,
    private readonly timeoutMs = 60_000,
    private readonly ownsClients = false,
  ) {}

  async createDestination(name: string, options: { partitions?: number } = {}): Promise<void> {
    try {
      await this.kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: options.partitions ?? 1 }));
    } catch (error) {
      if (awsErrorKind(error) !== 'in-use') throw toSluiceError(error, `kinesis CreateStream ${name}`);
    }
    await this.waitForStatus(name, 'ACTIVE');
  }

  async deleteDestination(name: string): Promise<void> {
    try {
      await this.kinesis.send(new DeleteStreamCommand({ StreamName: name, EnforceConsumerDeletion: true }));
    } catch (error) {
      if (awsErrorKind(error) !== 'not-found') throw toSluiceError(error, `kinesis DeleteStream ${name}`);
    }
  }

  /** Deletes a lease table (tests and benchmarks make one per run). */
  async deleteLeaseTable(table: string): Promise<void> {
    if (!this.dynamo) return;
    try {
      await this.dynamo.send(new DeleteTableCommand({ TableName: table }));
    } catch (error) {
      if (awsErrorKind(error) !== 'not-found') throw toSluiceError(error, `DynamoDB DeleteTable ${table}`);
    }
  }

  /** Waits until the stream has `status` (after CreateStream, SplitShard, UpdateShardCount). */
  async waitForStatus(name: string, status: string): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    let current: string | undefined;
    for (;;) {
      try {
        const result = await this.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        current = result.StreamDescriptionSummary?.StreamStatus;
        if (current === status) return;
      } catch (error) {
        const kind = awsErrorKind(error);
        if (kind !== 'throttled' && kind !== 'not-found') throw toSluiceError(error, `kinesis DescribeStreamSummary ${name}`);
      }
      if (Date.now() > deadline)
        throw new ConnectionError(`kinesis stream ${name} not ${status} after ${this.timeoutMs} ms (${current ?? 'missing'})`);
      await sleep(100);
    }
  }

  /** A stream's status and open shard count; a missing stream is a NotFoundError (`config check --connect`). */
  async streamSummary(name: string, signal?: AbortSignal): Promise<{ status: string; shards: number }> {
    try {
      const result = await this.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }), { abortSignal: signal });
      const summary = result.StreamDescriptionSummary;
      return { status: summary?.StreamStatus ?? 'UNKNOWN', shards: summary?.OpenShardCount ?? 0 };
    } catch (error) {
      throw toSluiceError(error, `kinesis stream ${name}`);
    }
  }

  /** A DynamoDB table's status, or undefined when it does not exist. */
  async tableStatus(name: string, signal?: AbortSignal): Promise<string | undefined> {
    if (!this.dynamo) return undefined;
    try {
      const result = await this.dynamo.send(new DescribeTableCommand({ TableName: name }), { abortSignal: signal });
      return result.Table?.TableStatus ?? 'UNKNOWN';
    } catch (error) {
      if (awsErrorKind(error) === 'not-found') return undefined;
      throw toSluiceError(error, `DynamoDB table ${name}`);
    }
  }

  async close(): Promise<void> {
    if (!this.ownsClients) return;
    this.kinesis.destroy();
    this.dynamo?.destroy();
  }
}
