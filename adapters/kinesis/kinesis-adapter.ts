import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { BrokerAdapter, Publisher, Source } from '../../src/broker/contract.ts';
import type { BrokerFeatures, BrokerTooling } from '../../src/broker/tooling.ts';
import { SluiceError } from '../../src/errors.ts';
import { KinesisAdmin } from './admin.ts';
import { FanOut } from './fan-out-reader.ts';
import { createClients, type KinesisClients } from './clients.ts';
import type { KinesisConfig } from './config.ts';
import { KinesisMetrics } from './metrics.ts';
import { KinesisPublisher } from './publisher.ts';
import { KinesisSource } from './kinesis-source.ts';

export interface KinesisAdapterDeps {
  readonly logger: Logger;
  readonly registry?: Registry;
  /** The ack audit, when on (src/audit). */
  readonly audit?: AckAudit;
  /** Builds the SDK clients; tests wrap `send` here to inject faults. */
  readonly clients?: (config: KinesisConfig) => KinesisClients;
}

/**
 * Amazon Kinesis Data Streams: a source reading leased shards (polling or enhanced fan-out),
 * a PutRecords publisher, an admin for streams. Every source and publisher has SDK clients of
 * its own, closed with it.
 */
export class KinesisAdapter implements BrokerAdapter, BrokerTooling {
  readonly type = 'kinesis';
  readonly features: BrokerFeatures;
  readonly metrics: KinesisMetrics;
  private readonly clients: (config: KinesisConfig) => KinesisClients;

  constructor(
    readonly config: KinesisConfig,
    private readonly deps: KinesisAdapterDeps,
  ) {
    this.features = {
      orderedByKey: true,
      persistent: true,
      consumerGroups: config.leases.type === 'dynamodb',
      redeliversOnNack: true,
      // The kit's Redelivery with a keyOrder: the later records of the nacked one's shard and key
      // that no worker started are taken back, those read meanwhile held, all delivered after it.
      nackKeepsKeyOrder: true,
      handsOverPartitions: config.leases.type === 'dynamodb',
      // Records have none; the source unwraps the envelope the publisher writes (envelope.ts).
      headers: config.publish.headers === 'envelope',
      // 1 MiB of data and partition key per record (headers, in the envelope, take a third more).
      maxPayloadBytes: 1024 * 1024 - 256,
      // Read errors retrying cannot fix, lasting consumer.fatalAfterMs (0: never fatal).
      fatalOnLostDestination: config.consumer.fatalAfterMs > 0,
    };
    this.metrics = deps.registry ? new KinesisMetrics(deps.registry, config.stream) : KinesisMetrics.unregistered(config.stream);
    this.clients = deps.clients ?? createClients;
  }

  createSource(): Source {
    const config = this.config;
    const clients = this.clients(config);
    let fanOut: FanOut | undefined;
    if (config.consumer.type === 'efo') {
      if (!clients.fanOut) throw new SluiceError('kinesis: consumer.type efo needs a fan-out client');
      fanOut = new FanOut(
        clients.kinesis,
        clients.fanOut,
        config.stream,
        config.consumer.efoName ?? config.application,
        {
          startTimestamp: config.startTimestamp === undefined ? undefined : new Date(config.startTimestamp),
          throttleBackoffMs: config.consumer.throttleBackoffMs,
          fatalAfterMs: config.consumer.fatalAfterMs,
        },
        this.deps.logger,
        this.metrics,
      );
    }
    return new KinesisSource(config, clients, { logger: this.deps.logger, metrics: this.metrics, fanOut, audit: this.deps.audit });
  }

  createPublisher(): Publisher {
    const { kinesis } = this.clients({
      ...this.config,
      consumer: { ...this.config.consumer, type: 'polling' },
      leases: { ...this.config.leases, type: 'file' },
    });
    return new KinesisPublisher(kinesis, this.config.publish, this.metrics, true);
  }

  createAdmin(): KinesisAdmin {
    const { kinesis, dynamo } = this.clients({ ...this.config, consumer: { ...this.config.consumer, type: 'polling' } });
    return new KinesisAdmin(kinesis, dynamo, 60_000, true);
  }
}
