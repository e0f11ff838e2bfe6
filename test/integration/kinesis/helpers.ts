// Shared by the Kinesis integration tests: configs pointing at the local emulators, fresh
// stream and table names, and a small reader of what a stream holds.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { kinesisConfigSchema, type KinesisConfig } from '../../../adapters/kinesis/config.ts';
import { KinesisAdapter, type KinesisAdapterDeps } from '../../../adapters/kinesis/kinesis-adapter.ts';
import type { AwsEndpoint } from '../brokers.ts';
import { uniqueName } from '../brokers.ts';

export const silent = pino({ level: process.env.SLUICE_TEST_LOG ?? 'silent' });

export interface LocalEndpoints {
  kinesis: AwsEndpoint;
  dynamodb?: AwsEndpoint;
}

/**
 * A validated `broker.kinesis` section for the local emulators, with short intervals so that
 * tests run quickly: file checkpoints unless a DynamoDB endpoint is given.
 */
export function localConfig(endpoints: LocalEndpoints, overrides: Record<string, unknown> = {}): KinesisConfig {
  const application = uniqueName('app');
  const leases = endpoints.dynamodb
    ? { type: 'dynamodb', endpoint: endpoints.dynamodb.url, durationMs: 1_500, renewIntervalMs: 300, takeIntervalMs: 500 }
    : { type: 'file', path: join(tmpdir(), `${application}.json`), durationMs: 1_500, renewIntervalMs: 300, takeIntervalMs: 500 };
  const { leases: leaseOverrides, consumer, ...rest } = overrides as { leases?: object; consumer?: object };
  return kinesisConfigSchema.parse({
    stream: 'unset',
    application,
    region: endpoints.kinesis.region,
    endpoint: endpoints.kinesis.url,
    credentials: endpoints.kinesis.credentials,
    checkpointIntervalMs: 100,
    nackDelayMs: 20,
    consumer: { pollIntervalMs: 200, throttleBackoffMs: 50, ...consumer },
    leases: { ...leases, ...leaseOverrides },
    ...rest,
  });
}

export function adapterFor(config: KinesisConfig, deps: Partial<KinesisAdapterDeps> = {}): KinesisAdapter {
  return new KinesisAdapter(config, { logger: silent, registry: new Registry(), ...deps });
}

/** A fresh stream of `shards` shards; the returned cleanup deletes it and the lease table. */
export async function freshStream(config: KinesisConfig, shards: number): Promise<{ config: KinesisConfig; cleanup: () => Promise<void> }> {
  const stream = uniqueName('st');
  const configured = { ...config, stream };
  const admin = adapterFor(configured).createAdmin();
  await admin.createDestination(stream, { partitions: shards });
  return {
    config: configured,
    cleanup: async () => {
      await admin.deleteDestination(stream).catch(() => undefined);
      if (configured.leases.type === 'dynamodb')
        await admin.deleteLeaseTable(configured.leases.table ?? configured.application).catch(() => undefined);
      else await rm(configured.leases.path, { force: true });
      await admin.close();
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
