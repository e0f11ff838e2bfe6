// A scenario: Sluice's validated config (the real loader, src/config/load.ts) plus the
// simulation's own inputs (workload, service time, keys, model parameters), turned into an
// engine with the delivery model of `broker.type`, and run.
import type { SluiceConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { BrokerLog } from './broker-log.ts';
import { KafkaDelivery } from './delivery-kafka.ts';
import { KinesisDelivery } from './delivery-kinesis.ts';
import { MemoryDelivery } from './delivery-memory.ts';
import { PubSubDelivery } from './delivery-pubsub.ts';
import { type DeliveryModel, Engine } from './engine.ts';
import { keySampler } from './keys.ts';
import type { ModelParams } from './model-params.ts';
import { Random } from './random.ts';
import type { ServiceTime } from './service-time.ts';
import { Arrivals, type Workload } from './workload.ts';

export interface Scenario {
  config: SluiceConfig;
  workload: Workload;
  service: ServiceTime;
  /** Share of handler tries that fail (retriable). */
  failureRate: number;
  keys: number;
  keySkew: string;
  messageSize: number;
  durationS: number;
  warmupS: number;
  drainS: number;
  seed: number;
  model: ModelParams;
}

/** Partitions / shards the simulated broker has. */
export function partitionsOf(scenario: Scenario): number {
  const type = scenario.config.broker.type;
  if (type === 'pubsub') return 1;
  if (scenario.model.partitions !== undefined) return scenario.model.partitions;
  if (type === 'memory') return (scenario.config.broker.memory as { partitions?: number } | undefined)?.partitions ?? 4;
  return 4;
}

function section(config: SluiceConfig): Record<string, unknown> {
  return (config.broker[config.broker.type] ?? {}) as Record<string, unknown>;
}

/** The broker section's nackDelayMs (every log adapter has one; Pub/Sub nacks are redelivered at once). */
function nackDelay(config: SluiceConfig): number {
  const value = section(config).nackDelayMs;
  return typeof value === 'number' ? value / 1000 : 0;
}

export function buildEngine(scenario: Scenario): { engine: Engine; model: DeliveryModel } {
  const { config, model: params } = scenario;
  const type = config.broker.type;
  const random = new Random(scenario.seed);
  const keys = keySampler(scenario.keys, scenario.keySkew, random);
  const arrivals = new Arrivals(scenario.workload, random, scenario.durationS);
  const writeLimit = type === 'kinesis' && params.kinesisLimits ? { recordsPerSecond: 1000, bytesPerSecond: 1_000_000 } : undefined;
  // Evenly spaced arrivals against a timer-based handler (ServiceTime.tick): each is appended at
  // a random point of its slot (broker-log.ts slotJitter), since the bench's producer (another
  // process for Kafka, a thread posting to the consumer's loop for the memory broker) puts its
  // records anywhere within the consumer's millisecond; exactly spaced they sat on the timers'
  // grid. Without a timer grid there is nothing to lock onto: left exact (the closed forms).
  const jitter = scenario.workload.arrivals === 'deterministic' && scenario.service.tick ? random : undefined;
  const broker = new BrokerLog(partitionsOf(scenario), arrivals, keys, scenario.messageSize, writeLimit, jitter);
  const engine = new Engine(
    {
      horizon: scenario.durationS,
      drain: scenario.drainS,
      warmup: scenario.warmupS,
      queue: config.queue,
      pool: { size: config.pool.size, orderByKey: config.pool.orderByKey },
      messageSize: scenario.messageSize,
      handler: {
        service: scenario.service,
        failureRate: scenario.failureRate,
        retry: config.handler.retry,
        timeout: config.handler.timeoutMs / 1000,
        deadLetter: config.deadLetter.type !== 'none',
      },
      nackDelay: nackDelay(config),
      keyCount: scenario.keys,
      loopCost: params.loopUsPerEvent / 1e6,
      gc:
        params.gcPerEvent > 0 && params.gcPausesMs.length > 0
          ? { perEvent: params.gcPerEvent, pauses: params.gcPausesMs.map((ms) => ms / 1000) }
          : undefined,
    },
    broker,
    random,
  );
  const latency = params.latencyMs / 1000;
  const s = section(config);
  let model: DeliveryModel;
  switch (type) {
    case 'memory':
      model = new MemoryDelivery(engine);
      // The publisher's append (and its Date.now() stamp) runs on the consumer's loop.
      broker.appendOnLoop = (t) => engine.loopFreeAt(t);
      break;
    case 'kafka': {
      const fetch = s.fetch as { minBytes: number; maxBytes: number; maxBytesPerPartition: number; maxWaitTimeMs: number };
      const size = scenario.messageSize;
      model = new KafkaDelivery(engine, {
        latency,
        maxWait: fetch.maxWaitTimeMs / 1000,
        minEvents: Math.max(1, Math.ceil(fetch.minBytes / size)),
        // A broker returns at least one record even when it is larger than the limit.
        perPartition: Math.max(1, Math.floor(fetch.maxBytesPerPartition / size)),
        perFetch: Math.max(1, Math.floor(fetch.maxBytes / size)),
        loopPerFetch: (params.loopUsPerFetch * params.loopFetchShareBefore) / 1e6,
        loopAfterFetch: (params.loopUsPerFetch * (1 - params.loopFetchShareBefore)) / 1e6,
      });
      break;
    }
    case 'kinesis': {
      const consumer = s.consumer as { type: string; pollIntervalMs: number; maxRecords: number; throttleBackoffMs: number };
      if (consumer.type !== 'polling') {
        throw new ConfigError('broker.kinesis.consumer.type', 'the simulator models the polling consumer only (efo is not modelled yet)');
      }
      model = new KinesisDelivery(engine, {
        pollInterval: consumer.pollIntervalMs / 1000,
        maxRecords: consumer.maxRecords,
        throttleBackoff: consumer.throttleBackoffMs / 1000,
        latency,
        readBytesPerSecond: params.kinesisLimits ? 2_000_000 : 0,
        messageSize: scenario.messageSize,
      });
      break;
    }
    case 'pubsub': {
      // adapters/pubsub/flow-lease.ts flowControlFor, restated (importing it loads the Pub/Sub SDK).
      const flow = s.flowControl as { maxMessages?: number; maxBytes?: number; inFlight: number };
      const maxMessages = flow.maxMessages ?? config.queue.maxEvents + engine.maxBatch + flow.inFlight;
      const maxBytes = flow.maxBytes ?? Math.ceil((config.queue.maxBytes * maxMessages) / Math.max(1, config.queue.maxEvents));
      model = new PubSubDelivery(engine, {
        maxMessages,
        maxBytes,
        rate: (s.streams as number) * params.pubsubStreamRate,
        latency,
        messageSize: scenario.messageSize,
      });
      break;
    }
    default:
      throw new ConfigError('broker.type', `the simulator has no delivery model for "${type}" (memory, kafka, kinesis, pubsub)`);
  }
  return { engine, model };
}

/** Builds and runs a scenario; returns the engine with its counters, histogram and series. */
export function runScenario(scenario: Scenario): { engine: Engine; model: DeliveryModel; wallMs: number } {
  const started = performance.now();
  const { engine, model } = buildEngine(scenario);
  engine.simulate(model);
  return { engine, model, wallMs: performance.now() - started };
}
