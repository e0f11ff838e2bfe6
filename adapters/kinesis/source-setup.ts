import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import type { Logger } from 'pino';
import { ConnectionError, SluiceError, errorMessage } from '../../src/errors.ts';
import { toSluiceError } from './aws-errors.ts';
import type { KinesisClients } from './clients.ts';
import type { KinesisConfig } from './config.ts';
import { FileLeaseTable } from './file-lease-table.ts';
import type { LeaseTable } from './lease.ts';
import type { CoordinatorOptions } from './lease-coordinator.ts';
import { DynamoLeaseTable } from './lease-table.ts';
import type { KinesisMetrics } from './metrics.ts';
import { type FanOutFactory, PollingShardReader, type ShardReader } from './shard-reader.ts';

/*
 * What the Kinesis source builds from its configuration (the lease table, the coordinator's
 * settings, a shard's reader) and its start-up checks: kept out of kinesis-source.ts, which is
 * about running the shards.
 */

/** The lease table `leases.type` names: DynamoDB (shared by instances) or a checkpoint file. */
export function createLeaseTable(config: KinesisConfig, clients: KinesisClients): LeaseTable {
  const leases = config.leases;
  if (leases.type === 'file') return new FileLeaseTable(leases.path, config.stream);
  if (!clients.dynamo) throw new SluiceError('kinesis: leases.type dynamodb needs a DynamoDB client');
  return new DynamoLeaseTable(clients.dynamo, leases.table ?? config.application, leases.createTable);
}

/** The lease coordinator's settings, with the defaults the README gives. */
export function coordinatorOptions(config: KinesisConfig): CoordinatorOptions {
  const leases = config.leases;
  return {
    workerId: leases.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
    durationMs: leases.durationMs,
    renewIntervalMs: leases.renewIntervalMs ?? Math.floor(leases.durationMs / 3),
    takeIntervalMs: leases.takeIntervalMs ?? leases.durationMs,
    shardSyncIntervalMs: leases.shardSyncIntervalMs,
  };
}

export interface ReaderDeps {
  readonly config: KinesisConfig;
  readonly clients: KinesisClients;
  readonly fanOut: FanOutFactory | undefined;
  readonly startTimestamp: Date | undefined;
  readonly logger: Logger;
  readonly metrics: KinesisMetrics;
}

/** A shard's reader from checkpoint `from`: enhanced fan-out when configured, else polling. */
export function createShardReader(
  deps: ReaderDeps,
  shardId: string,
  from: string,
  signal: AbortSignal,
  onFatal: (error: Error) => void,
): ShardReader {
  const { config, clients, logger, metrics } = deps;
  return (
    deps.fanOut?.reader(shardId, from, signal, onFatal) ??
    new PollingShardReader(
      clients.kinesis,
      config.stream,
      shardId,
      from,
      {
        pollIntervalMs: config.consumer.pollIntervalMs,
        throttleBackoffMs: config.consumer.throttleBackoffMs,
        startTimestamp: deps.startTimestamp,
        fatalAfterMs: config.consumer.fatalAfterMs,
        onFatal,
      },
      signal,
      logger,
      metrics,
    )
  );
}

/** Checks that the stream exists and is not being deleted (NotFoundError, AuthenticationError, ...). */
export async function describeStream(clients: KinesisClients, stream: string, signal: AbortSignal): Promise<void> {
  try {
    const result = await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }), { abortSignal: signal });
    const status = result.StreamDescriptionSummary?.StreamStatus;
    if (status === 'DELETING') throw new SluiceError(`kinesis stream ${stream} is being deleted`);
  } catch (error) {
    throw toSluiceError(error, `kinesis stream ${stream}`);
  }
}

/** Runs `work`, failing with a clear ConnectionError if `signal` (the start-up bound) fires first. */
export async function bounded<T>(signal: AbortSignal, ms: number, work: () => Promise<T>): Promise<T> {
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    onAbort = () => reject(new ConnectionError(`kinesis: start-up did not finish within ${ms} ms (connectTimeoutMs)`));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work(), timeout]);
  } catch (error) {
    if (signal.aborted && !(error instanceof SluiceError && error.message.includes('connectTimeoutMs'))) {
      throw new ConnectionError(`kinesis: start-up did not finish within ${ms} ms (connectTimeoutMs): ${errorMessage(error)}`, error);
    }
    throw error;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
