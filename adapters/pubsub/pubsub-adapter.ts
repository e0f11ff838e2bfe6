import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { BrokerAdapter, Publisher, Source } from '../../src/broker/contract.ts';
import type { BrokerAdmin, BrokerFeatures, BrokerTooling } from '../../src/broker/tooling.ts';
import type { PubSubConfig } from './config.ts';
import { PubSubMetrics } from './metrics.ts';
import { PubSubPublisher } from './pubsub-publisher.ts';
import { PubSubSource } from './pubsub-source.ts';
import { PubSubAdmin } from './resources.ts';

/**
 * Google Cloud Pub/Sub. Acked messages are gone for the subscription (persistent); several
 * Sluice replicas on one subscription share its messages (consumer groups); a nack is redelivered
 * at once; with message ordering on the subscription, a key's messages arrive in publish order.
 */
export class PubSubAdapter implements BrokerAdapter, BrokerTooling {
  readonly type = 'pubsub';
  readonly features: BrokerFeatures = {
    orderedByKey: true,
    persistent: true,
    consumerGroups: true,
    redeliversOnNack: true,
    nackKeepsKeyOrder: true,
    // Messages are leased one by one: no partitions to hand over.
    handsOverPartitions: false,
    headers: true,
    // 10 MB per message (data and attributes); the suite tests 3 MiB.
    maxPayloadBytes: 10_000_000 - 64 * 1024,
    fatalOnLostDestination: true,
  };
  readonly metrics: PubSubMetrics;

  constructor(
    readonly config: PubSubConfig,
    private readonly logger: Logger,
    registry: Registry,
    private readonly audit?: AckAudit,
  ) {
    this.metrics = PubSubMetrics.for(registry);
  }

  createSource(): Source {
    return new PubSubSource(this.config, this.metrics, this.logger, this.audit);
  }

  createPublisher(): Publisher {
    return new PubSubPublisher(this.config);
  }

  /** Keeps dead letters replayable: see deadLetterReplaySubscription. */
  createDeadLetterPublisher(): Publisher {
    return new PubSubPublisher(this.config, true);
  }

  createAdmin(): BrokerAdmin {
    return new PubSubAdmin(this.config);
  }
}
