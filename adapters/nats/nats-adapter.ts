import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { BrokerAdapter, Publisher, Source } from '../../src/broker/contract.ts';
import type { BrokerAdmin, BrokerFeatures, BrokerTooling } from '../../src/broker/tooling.ts';
import { connectNats, manager } from './client.ts';
import type { NatsConfig } from './config.ts';
import { NatsMetrics } from './metrics.ts';
import { NatsPublisher } from './nats-publisher.ts';
import { NatsSource } from './nats-source.ts';

/** Streams for tests and benchmarks: stream `name` on subject `name` (one log: no partitions). */
class NatsAdmin implements BrokerAdmin {
  private nc: Promise<NatsConnection> | undefined;
  constructor(private readonly config: NatsConfig) {}
  private async streams() {
    this.nc ??= connectNats(this.config, 'sluice-admin');
    return (await manager(await this.nc, this.config)).streams;
  }
  async createDestination(name: string): Promise<void> {
    await (await this.streams()).add({ name, subjects: [name] });
  }
  async deleteDestination(name: string): Promise<void> {
    await (await this.streams()).delete(name);
  }
  async close(): Promise<void> {
    await (await this.nc)?.close();
    this.nc = undefined;
  }
}

/** NATS JetStream: a stream read through a durable pull consumer (README.md). */
export class NatsAdapter implements BrokerAdapter, BrokerTooling {
  readonly type = 'nats';
  readonly features: BrokerFeatures;
  private readonly metrics: NatsMetrics;

  constructor(
    readonly config: NatsConfig,
    private readonly logger: Logger,
    registry: Registry,
    private readonly audit?: AckAudit,
  ) {
    this.metrics = NatsMetrics.for(registry);
    // A nak or an ack-wait expiry lets later messages overtake unless `ordered`. Payloads: the
    // default max_payload (1 MiB) less room for headers.
    this.features = {
      orderedByKey: true,
      persistent: true,
      consumerGroups: true,
      redeliversOnNack: true,
      nackKeepsKeyOrder: config.ordered,
      handsOverPartitions: false,
      headers: true,
      maxPayloadBytes: 1024 * 1024 - 8 * 1024,
      fatalOnLostDestination: true,
    };
  }

  createSource(): Source {
    return new NatsSource(this.config, this.metrics, this.logger, this.audit);
  }
  createPublisher(): Publisher {
    return new NatsPublisher(this.config);
  }
  createAdmin(): BrokerAdmin {
    return new NatsAdmin(this.config);
  }
}
