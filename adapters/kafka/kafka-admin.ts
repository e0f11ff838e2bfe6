import type { Admin, ConfigResourceTypes, Kafka } from 'kafkajs';
import type { BrokerAdmin } from '../../src/broker/tooling.ts';
import { toSluiceError, within } from './client.ts';
import type { KafkaConfig } from './config.ts';

/** kafkajs' ConfigResourceTypes.BROKER: a type there, and not a named export its CommonJS build offers to ESM. */
const BROKER_RESOURCE = 4 as ConfigResourceTypes;

/** Creates and deletes topics (tests, benchmarks, tooling). Connects on first use. */
export class KafkaAdmin implements BrokerAdmin {
  private admin: Promise<Admin> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: KafkaConfig,
  ) {}

  /** Creates `name` with `partitions` partitions (default 4); an existing topic is left as it is. */
  async createDestination(name: string, options: { partitions?: number } = {}): Promise<void> {
    const admin = await this.connect();
    const partitions = options.partitions ?? 4;
    try {
      await admin.createTopics({
        topics: [{ topic: name, numPartitions: partitions, replicationFactor: this.config.admin.replicationFactor }],
        waitForLeaders: true,
        timeout: this.config.requestTimeoutMs,
      });
    } catch (error) {
      // The topic was created, but kafkajs' wait for its leaders asked a broker whose metadata
      // cache did not know it yet (KRaft propagates it a moment later): wait for the leaders here.
      if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION' || !(await this.leadersOf(admin, name, partitions)))
        throw toSluiceError(error, this.config, `create topic ${name}`);
    }
  }

  /** Whether every partition of `topic` has a leader within the start timeout (metadata polled). */
  private async leadersOf(admin: Admin, topic: string, partitions: number): Promise<boolean> {
    const deadline = Date.now() + this.config.startTimeoutMs;
    while (Date.now() < deadline) {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      const found = metadata?.topics.find((t) => t.name === topic);
      if (found && found.partitions.length === partitions && found.partitions.every((p) => p.leader >= 0)) return true;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return false;
  }

  async deleteDestination(name: string): Promise<void> {
    const admin = await this.connect();
    try {
      await admin.deleteTopics({ topics: [name], timeout: this.config.requestTimeoutMs });
    } catch (error) {
      const failure = toSluiceError(error, this.config, `delete topic ${name}`);
      if (failure.name !== 'NotFoundError') throw failure;
    }
  }

  /** The brokers that answer and the cluster id (`config check --connect`). */
  async cluster(): Promise<{ brokers: number; clusterId: string; firstBrokerId: number | null }> {
    const admin = await this.connect();
    try {
      const cluster = await admin.describeCluster();
      return { brokers: cluster.brokers.length, clusterId: cluster.clusterId, firstBrokerId: cluster.brokers[0]?.nodeId ?? null };
    } catch (error) {
      throw toSluiceError(error, this.config, 'describe the cluster');
    }
  }

  /** A broker's setting (`auto.create.topics.enable`…), or undefined when it cannot be read (ACLs). */
  async brokerSetting(brokerId: number, name: string): Promise<string | undefined> {
    const admin = await this.connect();
    try {
      const { resources } = await admin.describeConfigs({
        resources: [{ type: BROKER_RESOURCE, name: String(brokerId), configNames: [name] }],
        includeSynonyms: false,
      });
      return resources[0]?.configEntries.find((entry) => entry.configName === name)?.configValue;
    } catch {
      return undefined;
    }
  }

  /** Every topic visible at the brokers, with its partition count. */
  async topicPartitions(): Promise<Map<string, number>> {
    const admin = await this.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata();
      return new Map(topics.map((topic) => [topic.name, topic.partitions.length]));
    } catch (error) {
      throw toSluiceError(error, this.config, 'list topics');
    }
  }

  /** The state of consumer group `group` (`Dead` for one that has no members and no offsets) and its members. */
  async groupState(group: string): Promise<{ state: string; members: number }> {
    const admin = await this.connect();
    try {
      const { groups } = await admin.describeGroups([group]);
      return { state: groups[0]?.state ?? 'Unknown', members: groups[0]?.members.length ?? 0 };
    } catch (error) {
      throw toSluiceError(error, this.config, `describe group ${group}`);
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    if (admin) await (await admin.catch(() => undefined))?.disconnect().catch(() => undefined);
  }

  private connect(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await within(
          admin.connect(),
          this.config.startTimeoutMs,
          () => `kafka: admin could not connect within ${this.config.startTimeoutMs} ms`,
        );
        return admin;
      } catch (error) {
        this.admin = undefined;
        await admin.disconnect().catch(() => undefined);
        throw toSluiceError(error, this.config, 'connect the admin client');
      }
    })();
    return this.admin;
  }
}
