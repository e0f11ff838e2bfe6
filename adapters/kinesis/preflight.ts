import { type AdapterUse, collectConfigErrors } from '../../src/broker/preflight.ts';
import { ConfigError } from '../../src/errors.ts';
import { createKinesisClient } from './clients.ts';
import type { KinesisConfig } from './config.ts';
import { FileLeaseTable } from './file-lease-table.ts';

/**
 * What a Kinesis section needs at start-up beyond its schema, found without connecting: a region
 * (the SDK's own resolution: `region`, else AWS_REGION, else the profile; every call fails
 * without one), and for a source with `leases.type: file` a checkpoint file the source can use
 * (read by the same FileLeaseTable.initialize the source runs at start: readable, JSON, this
 * stream's).
 */
export async function preflight(config: KinesisConfig, use: AdapterUse): Promise<ConfigError[]> {
  return collectConfigErrors([
    () => requireRegion(config),
    ...(use.role === 'source' && config.leases.type === 'file'
      ? [() => new FileLeaseTable(config.leases.path, config.stream).initialize()]
      : []),
  ]);
}

async function requireRegion(config: KinesisConfig): Promise<void> {
  const client = createKinesisClient(config);
  try {
    await client.config.region();
  } catch (error) {
    throw new ConfigError(
      'broker.kinesis.region',
      `no AWS region: set broker.kinesis.region, or AWS_REGION, or a region in the AWS profile (${(error as Error).message})`,
    );
  } finally {
    client.destroy();
  }
}
