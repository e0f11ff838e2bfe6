import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { Registry } from 'prom-client';
import type { BrokerAdapter, Publisher, Source } from '../../src/broker/contract.ts';
import type { BrokerAdmin, BrokerFeatures, BrokerTooling } from '../../src/broker/tooling.ts';
import { connectNats, manager } from './client.ts';
import type { NatsConfig } from './config.ts';
import { NatsMetrics } from './metrics.ts';
import { NatsPublisher } from './nats-publisher.ts';
import { NatsSource } from './nats-source.ts';

/** NATS's default max_payload (1 MiB) less room for headers (the key header, Sluice's dead-letter headers). */
const MAX_PAYLOAD = 1024 * 1024 - 8 * 1024;

/** Streams for tests and benchmarks: a stream named `name` capturing subject `name`. */
class NatsAdmin implements BrokerAdmin {
  private nc: Promise<NatsConnection> | undefined;
  constructor(private readonly config: NatsConfig) {}

  private async jsm() {
    this.nc ??= connectNats(this.config, 'sluice-admin');
    return manager(await this.nc, this.config);
  }

  /** One stream; `partitions` does not apply (a stream is one ordered log). */
  async createDestination(name: string): Promise<void> {
    await (await this.jsm()).streams.add({ name, subjects: [name] });
  }

  async deleteDestination(name: string): Promise<void> {
    await (await this.jsm()).streams.delete(name);
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    if (nc) await (await nc).close();
  }
}

/** NATS JetStream: a stream read through a durable pull consumer, see README.md. */
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
    this.features = {
      // A stream is one log delivered in sequence order; a nack (nak with delay) or an ack-wait
      // expiry lets later messages overtake, unless `ordered` (max_ack_pending 1) holds them.
      orderedByKey: true,
      persistent: true,
      consumerGroups: true,
      redeliversOnNack: true,
      nackKeepsKeyOrder: config.ordered,
      handsOverPartitions: false,
      headers: true,
      maxPayloadBytes: MAX_PAYLOAD,
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
