import type { AckAudit } from '../../src/audit/ack-audit.ts';
import type { BrokerAdapter, Publisher, Source } from '../../src/broker/contract.ts';
import type { BrokerAdmin, BrokerFeatures, BrokerTooling } from '../../src/broker/tooling.ts';
import { MemoryPublisher } from './memory-publisher.ts';
import type { MemoryConfig } from './config.ts';
import { MemoryBroker } from './memory-broker.ts';
import { MemorySource } from './memory-source.ts';

class MemoryAdmin implements BrokerAdmin {
  constructor(private readonly broker: MemoryBroker) {}
  async createDestination(name: string, options: { partitions?: number } = {}): Promise<void> {
    this.broker.createTopic(name, options.partitions ?? 4);
  }
  async deleteDestination(name: string): Promise<void> {
    this.broker.deleteTopic(name);
  }
  async close(): Promise<void> {}
}

/** The embedded default: no infrastructure, the baseline for tests and benchmarks. */
export class MemoryAdapter implements BrokerAdapter, BrokerTooling {
  readonly type = 'memory';
  readonly features: BrokerFeatures = {
    orderedByKey: true,
    persistent: true,
    consumerGroups: false,
    redeliversOnNack: true,
    // Not yet: a nacked event comes back after nackDelayMs, and the key's later events already
    // delivered are handled meanwhile (the source kit is to take them back, as Pub/Sub does).
    nackKeepsKeyOrder: false,
    handsOverPartitions: false,
    headers: true,
    maxPayloadBytes: Number.MAX_SAFE_INTEGER,
    // The in-process broker has no client that can fail.
    fatalOnLostDestination: false,
  };

  constructor(
    readonly config: MemoryConfig,
    readonly broker: MemoryBroker = MemoryBroker.shared('default', config.maxBacklog),
    private readonly audit?: AckAudit,
  ) {}

  createSource(): Source {
    return new MemorySource(this.broker, this.config, this.audit);
  }

  createPublisher(): Publisher {
    return new MemoryPublisher(this.broker, this.config.partitions);
  }

  createAdmin(): BrokerAdmin {
    return new MemoryAdmin(this.broker);
  }
}
