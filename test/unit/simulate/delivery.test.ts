// The delivery models' limits: Kinesis' per-shard write and read limits and its polling,
// Kafka's fetch sizes, Pub/Sub's flow control and stream rate.
import { describe, expect, it } from 'vitest';
import { simulate } from './helpers.ts';

const kinesis = (consumer: Record<string, unknown> = {}) => ({
  broker: { type: 'kinesis', kinesis: { stream: 's', consumer } },
  queue: { maxEvents: 10_000 },
  pool: { size: 64 },
});

describe('simulate delivery: kinesis', () => {
  it('a shard takes 1,000 records/s (the write limit): 2 shards cap a 5,000/s producer at 2,000/s', async () => {
    const { result, engine } = await simulate({
      config: kinesis(),
      workload: 'constant:5000/s',
      service: 'fixed:1ms',
      duration: 20,
      messageSize: 100,
      model: ['partitions=2'],
    });
    expect(result.throughput).toBeGreaterThan(2000 * 0.97);
    expect(result.throughput).toBeLessThan(2000 * 1.01);
    expect(engine.broker.maxWriteDelay).toBeGreaterThan(10);
    expect(result.heldByWriteLimitAtEnd).toBeGreaterThan(50_000);
    expect(result.verdict.reason).toMatch(/not yet let in by the broker's write limit/);
    expect(result.verdict.keepsUp).toBe(false);
  });

  it('bytes: with 1 MiB events the 1 MB/s write limit lets under one event per second into a shard', async () => {
    const { result } = await simulate({
      config: kinesis(),
      workload: 'constant:50/s',
      service: 'fixed:1ms',
      duration: 30,
      messageSize: 1 << 20,
      model: ['partitions=1', 'kinesisLimits=true'],
    });
    // 1 MB/s over 1,048,576 B events: one every 1.05 s.
    expect(result.throughput).toBeGreaterThan(0.85);
    expect(result.throughput).toBeLessThan(1.0);
  });

  it('polling: pollIntervalMs and the Limit bound a shard to Limit / interval', async () => {
    const { result } = await simulate({
      config: kinesis({ pollIntervalMs: 200, maxRecords: 100 }),
      workload: 'constant:2000/s',
      service: 'fixed:1ms',
      duration: 20,
      model: ['partitions=1', 'kinesisLimits=false'],
    });
    expect(result.throughput).toBeGreaterThan(500 * 0.97);
    expect(result.throughput).toBeLessThan(500 * 1.03);
  });

  it('without limits a light load keeps up, latency about half a poll interval plus a call', async () => {
    const { result } = await simulate({
      config: kinesis(),
      workload: 'constant:1000/s',
      service: 'fixed:1ms',
      duration: 20,
      model: ['partitions=4', 'kinesisLimits=false'],
    });
    expect(result.verdict.keepsUp).toBe(true);
    expect(result.latencyMs.p50).toBeGreaterThan(80);
    expect(result.latencyMs.p50).toBeLessThan(150);
    expect(result.latencyMs.max).toBeLessThan(250);
  });
});

describe('simulate delivery: kafka and pubsub', () => {
  it('kafka: a fetch answers as soon as records are there; latency is about a round trip', async () => {
    const { result } = await simulate({
      config: { broker: { type: 'kafka', kafka: { brokers: ['x:1'], topics: ['t'] } }, pool: { size: 16 } },
      workload: 'constant:1000/s',
      service: 'fixed:1ms',
      duration: 10,
      model: ['latencyMs=2'],
    });
    expect(result.verdict.keepsUp).toBe(true);
    expect(result.latencyMs.p50).toBeGreaterThan(3);
    expect(result.latencyMs.p50).toBeLessThan(10);
  });

  it('pubsub: streams × stream rate caps delivery', async () => {
    const { result } = await simulate({
      config: { broker: { type: 'pubsub', pubsub: { subscription: 's', topic: 't', streams: 2 } }, pool: { size: 64 } },
      workload: 'constant:10000/s',
      service: 'fixed:1ms',
      duration: 20,
      model: ['pubsubStreamRate=1000'],
    });
    expect(result.throughput).toBeGreaterThan(2000 * 0.97);
    expect(result.throughput).toBeLessThan(2000 * 1.03);
  });

  it('pubsub: flow control bounds what Sluice holds to maxMessages', async () => {
    const { result } = await simulate({
      config: {
        broker: { type: 'pubsub', pubsub: { subscription: 's', topic: 't', flowControl: { maxMessages: 500 } } },
        queue: { maxEvents: 10_000 },
        pool: { size: 4 },
      },
      workload: 'constant:5000/s',
      service: 'fixed:1ms',
      duration: 10,
    });
    expect(result.memory.peakEvents).toBeLessThanOrEqual(500);
    expect(result.throughput).toBeGreaterThan(3900);
    expect(result.throughput).toBeLessThan(4010);
  });
});

describe('simulate delivery: kinesis read limit', () => {
  it('a shard is read at 2 MB/s at most: throttled calls back off', async () => {
    const { validateConfig } = await import('../../../src/config/validate.ts');
    const { BrokerLog } = await import('../../../src/simulate/broker-log.ts');
    const { Engine } = await import('../../../src/simulate/engine.ts');
    const { KinesisDelivery } = await import('../../../src/simulate/delivery-kinesis.ts');
    const { keySampler } = await import('../../../src/simulate/keys.ts');
    const { Random } = await import('../../../src/simulate/random.ts');
    const { parseServiceTime } = await import('../../../src/simulate/service-time.ts');
    const { Arrivals, parseWorkload } = await import('../../../src/simulate/workload.ts');
    const config = await validateConfig({});
    const random = new Random(1);
    const size = 10_000;
    // No write limit (a backlog written faster than 1 MB/s, as by many producers' shards merged): 10 MB/s offered.
    const broker = new BrokerLog(
      1,
      new Arrivals(parseWorkload('constant:1000/s'), random, 60),
      keySampler(0, 'uniform', random),
      size,
      undefined,
    );
    const engine = new Engine(
      {
        horizon: 60,
        drain: 0,
        warmup: 0,
        queue: config.queue,
        pool: { size: 64, orderByKey: false },
        messageSize: size,
        handler: { service: parseServiceTime('fixed:1ms'), failureRate: 0, retry: config.handler.retry, timeout: 0, deadLetter: false },
        nackDelay: 0.1,
        keyCount: 0,
      },
      broker,
      random,
    );
    const model = new KinesisDelivery(engine, {
      pollInterval: 0.2,
      maxRecords: 10_000,
      throttleBackoff: 0.5,
      latency: 0.01,
      readBytesPerSecond: 2_000_000,
      messageSize: size,
    });
    engine.simulate(model);
    const bytesPerSecond = (engine.readCount * size) / 60;
    expect(bytesPerSecond).toBeLessThanOrEqual(2_000_000 * 1.05);
    expect(bytesPerSecond).toBeGreaterThan(2_000_000 * 0.5);
    expect(model.throttled).toBeGreaterThan(0);
  });
});
