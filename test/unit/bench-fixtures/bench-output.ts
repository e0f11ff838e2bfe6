import type { BenchOutput } from '../../../src/bench/bench-command.ts';
import type { BrokerRun, SeriesPoint } from '../../../src/bench/run-broker.ts';

const workload = { rate: 2000, durationS: 20, warmupS: 5, messageSize: 1024, keys: 100, partitions: 4, work: 'none', drainTimeoutS: 60 };

/** A run's series: `rate` a second with a wobble (peaks near 1,985/s, as the 662 / 1,323 / 1,985 axis). */
function series(rate: number, seconds: number, seed: number): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  let delivered = 0;
  for (let t = 1; t <= seconds; t++) {
    const sent = rate * t;
    delivered = Math.min(sent, delivered + Math.round(rate * (0.9 + 0.0925 * Math.sin(t * seed))));
    points.push({ t, sent, confirmed: sent - 10, delivered, backlog: sent - delivered });
  }
  points.push({ t: seconds + 1, sent: rate * seconds, confirmed: rate * seconds, delivered: rate * seconds, backlog: 0 });
  return points;
}

const latency = (scale: number) => ({
  p50: 1.2 * scale,
  p90: 4.7 * scale,
  p99: 23.4 * scale,
  p999: 88 * scale,
  max: 140 * scale,
  count: 40_000,
});

function run(broker: string, scale: number, seed: number): BrokerRun {
  return {
    broker,
    workload,
    queueSize: 10_000,
    poolSize: 64,
    throughput: 1985.3,
    sent: 50_000,
    delivery: { received: 50_000, unique: 50_000, duplicates: 0, lost: 0, foreign: 0 },
    latencyMs: latency(scale),
    latencyCurve: [0, 50, 90, 99, 99.9, 99.99, 100].map((p, i) => [p, [0.3, 1.2, 4.7, 23.4, 88, 120, 140][i]! * scale]),
    publishLatencyMs: latency(scale / 2),
    producerMaxBehindMs: 3,
    series: series(2000, 25, seed),
    cpuPercent: 47,
    peakRssMB: 212,
    pausedSeconds: 0,
    config: {
      broker: {
        type: 'kafka',
        kafka: {
          brokers: ['127.0.0.1:9092'],
          topics: ['sluice-bench-kafka-a-very-long-generated-topic-name-without-spaces-0123456789abcdef'],
        },
      },
      queue: { maxEvents: 10_000, policy: 'block' },
      pool: { size: 64, mode: 'async' },
    },
  };
}

/** A bench output as `sluice bench --out` writes it: two runs and a failed one with a long error. */
export function benchOutputFixture(): BenchOutput {
  return {
    kind: 'bench',
    version: '0.1.0',
    commit: 'abc1234',
    machine: { cpus: 8, cpuModel: 'Fixture CPU @ 3.00GHz', memoryGB: 16, node: 'v24.0.0', os: 'Linux 6.8.0 (x64)', note: 'fixture' },
    startedAt: '2026-11-26T10:00:00.000Z',
    finishedAt: '2026-11-26T10:03:00.000Z',
    options: { brokers: ['memory', 'kafka:platformatic', 'pubsub'], rate: 2000, workload, profiles: {}, set: ['queue.policy=block'] },
    runs: [
      run('memory', 1, 1.3),
      run('kafka (platformatic)', 3, 0.7),
      {
        broker: 'pubsub',
        workload,
        error: `pubsub consumer: no ready within 60000 ms: ${'a-long-unbroken-error-detail-'.repeat(8)}`,
      } as BrokerRun,
    ],
  };
}
