import {
  type AdapterUse,
  type CheckOptions,
  deadLetterDestinations,
  failed,
  passed,
  type ResourceCheck,
  timedCheck,
} from '../../src/broker/preflight.ts';
import { ConnectionError, errorMessage, NotFoundError } from '../../src/errors.ts';
import { KinesisAdmin } from './admin.ts';
import { createClients } from './clients.ts';
import type { KinesisConfig } from './config.ts';

/** Stream states a source can start on (UPDATING: a reshard or retention change in progress). */
const READABLE = new Set(['ACTIVE', 'UPDATING']);

/**
 * `sluice config check --connect` for a Kinesis section, through the admin the adapter uses for
 * streams: for a source, the stream exists and is ACTIVE (with its open shard count), and the
 * DynamoDB lease table exists or will be created at start (`leases.createTable`); for dead
 * letters, each destination stream exists (Kinesis creates none on publish). A stream endpoint
 * that does not answer stops the checks of that endpoint after one line.
 */
export async function* checkResources(config: KinesisConfig, use: AdapterUse, { timeoutMs }: CheckOptions): AsyncGenerator<ResourceCheck> {
  const clients = createClients({ ...config, consumer: { ...config.consumer, type: 'polling' } });
  const admin = new KinesisAdmin(clients.kinesis, clients.dynamo, timeoutMs);
  try {
    const streams = use.role === 'source' ? [config.stream] : deadLetterDestinations(use);
    for (const stream of streams) {
      const what = `${use.role === 'source' ? 'kinesis stream' : 'dead-letter stream'} ${stream} (${config.endpoint ?? 'AWS'})`;
      const check = await timedCheck(what, timeoutMs, async (signal) => {
        try {
          const { status, shards } = await admin.streamSummary(stream, signal);
          if (!READABLE.has(status)) return failed(what, `is ${status}, not ACTIVE`);
          return passed(what, `${status}, ${shards} open shard(s)`);
        } catch (error) {
          if (error instanceof ConnectionError) return failed(what, `unreachable: ${errorMessage(error.cause ?? error)}`, true);
          if (error instanceof NotFoundError)
            return failed(what, `does not exist${use.role === 'source' ? '' : ' (Kinesis creates no stream on publish: create it)'}`);
          throw error;
        }
      });
      yield use.role === 'source' ? { ...check, sources: [stream] } : check;
      if (check.unreachable) break;
    }
    if (use.role === 'source' && config.leases.type === 'dynamodb') {
      const table = config.leases.table ?? config.application;
      const what = `lease table ${table} (${config.leases.endpoint ?? 'AWS DynamoDB'})`;
      yield await timedCheck(what, timeoutMs, async (signal) => {
        const status = await admin.tableStatus(table, signal).catch((error: unknown) => {
          throw error instanceof ConnectionError ? new ConnectionError(`unreachable: ${errorMessage(error.cause ?? error)}`) : error;
        });
        if (status !== undefined) return passed(what, `exists (${status})`);
        if (config.leases.createTable) return passed(what, 'does not exist: created at start (leases.createTable: true)');
        return failed(what, 'does not exist, and leases.createTable is false: create it or allow Sluice to');
      });
    }
  } finally {
    clients.kinesis.destroy();
    clients.dynamo?.destroy();
  }
}
