import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { BrokerAdapter, Publisher, Source } from '../../src/broker/contract.ts';
import type { BrokerAdmin, BrokerFeatures, BrokerTooling } from '../../src/broker/tooling.ts';
import { connectionOptions, createKafka } from './client.ts';
import type { KafkaConfig } from './config.ts';
import { KafkaAdmin } from './kafka-admin.ts';
import { KafkaMetrics } from './kafka-metrics.ts';
import { KafkaPublisher } from './kafka-publisher.ts';
import { KafkaSource } from './kafka-source.ts';
import { platformaticOptions } from './platformatic-client.ts';
import { PlatformaticPublisher } from './platformatic-publisher.ts';
import { PlatformaticSource } from './platformatic-source.ts';

/**
 * Apache Kafka through kafkajs or @platformatic/kafka (`client`): a consumer-group source with
 * contiguous commits, a batched idempotent publisher and a topic admin (kafkajs for both). Each
 * source, publisher and admin has its own client (and connections), so one slow part does not
 * hold up another.
 */
export class KafkaAdapter implements BrokerAdapter, BrokerTooling {
  readonly type = 'kafka';
  readonly features: BrokerFeatures = {
    orderedByKey: true,
    persistent: true,
    consumerGroups: true,
    redeliversOnNack: true,
    // The source kit's Redelivery takes the later records of the partition and key back and
    // delivers them after the nacked one.
    nackKeepsKeyOrder: true,
    handsOverPartitions: true,
    headers: true,
    // The broker's default message.max.bytes is 1048588 for a whole record batch.
    maxPayloadBytes: 1_000_000,
    // Neither client reports a deleted topic; the source's TopicWatch does, after missingTopicGraceMs.
    fatalOnLostDestination: true,
  };
  private readonly metrics: KafkaMetrics;
  /** TLS files and secrets, read once: a missing file or variable fails at creation, naming the key. */
  private readonly connection: ReturnType<typeof connectionOptions>;

  constructor(
    readonly config: KafkaConfig,
    private readonly logger: Logger,
    registry: Registry,
    private readonly audit?: AckAudit,
    /** Left out of what `topicPattern` matches (AdapterDeps.deadLetterTopics). */
    private readonly deadLetterTopics?: (topic: string) => boolean,
  ) {
    this.connection = connectionOptions(config);
    this.metrics = KafkaMetrics.for(registry);
  }

  createSource(): Source {
    if (this.config.client === 'platformatic') {
      return new PlatformaticSource(
        platformaticOptions(this.config, 'source', this.connection),
        this.config,
        this.logger,
        this.metrics,
        this.audit,
        this.deadLetterTopics,
      );
    }
    return new KafkaSource(
      createKafka(this.config, this.logger, 'source', this.connection),
      this.config,
      this.logger,
      this.metrics,
      this.audit,
      this.deadLetterTopics,
    );
  }

  createPublisher(): Publisher {
    if (this.config.client === 'platformatic') {
      return new PlatformaticPublisher(platformaticOptions(this.config, 'publisher', this.connection), this.config);
    }
    return new KafkaPublisher(createKafka(this.config, this.logger, 'publisher', this.connection), this.config);
  }

  createAdmin(): BrokerAdmin {
    return new KafkaAdmin(createKafka(this.config, this.logger, 'admin', this.connection), this.config);
  }
}
