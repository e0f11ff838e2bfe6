/**
 * The baselines of `npm run bench:kafka`: each Kafka client library alone, reading a backlog and
 * only counting. No commits, no queue, nothing kept: the least a consumer of that library can
 * cost, so that Sluice on the same library is measured against it.
 */
import { Consumer, type MessagesStream } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig } from '../../adapters/kafka/config.ts';
import { EventCounter, type Rate, waitUntil } from './bench-support.ts';
import { num, table } from './table.ts';

/** kafkajs with a no-op eachBatch that only counts (auto-resolve on, commits off). */
export async function bareKafkajs(cfg: KafkaConfig, topic: string, group: string, events: number): Promise<Rate> {
  const kafka = new Kafka({ clientId: 'sluice-bench-bare', brokers: cfg.brokers, logLevel: logLevel.WARN });
  const consumer = kafka.consumer({
    groupId: group,
    minBytes: cfg.fetch.minBytes,
    maxBytes: cfg.fetch.maxBytes,
    maxBytesPerPartition: cfg.fetch.maxBytesPerPartition,
    maxWaitTimeInMs: cfg.fetch.maxWaitTimeMs,
  });
  const counter = new EventCounter(events);
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => counter.add(batch.messages.length),
  });
  await waitUntil('the bare kafkajs consumer to read the backlog', () => counter.done, 600_000);
  await consumer.disconnect();
  return counter.rate();
}

/**
 * @platformatic/kafka's consume() stream in flowing mode, a `data` listener that only counts,
 * autocommit off; the same fetch sizes, wait and isolation level as Sluice's platformatic source,
 * the library's default stream buffer (highWaterMark 1,024 records).
 */
export async function barePlatformatic(cfg: KafkaConfig, topic: string, group: string, events: number): Promise<Rate> {
  const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
    clientId: 'sluice-bench-bare',
    bootstrapBrokers: cfg.brokers,
    groupId: group,
    autocommit: false,
    sessionTimeout: cfg.sessionTimeoutMs,
    heartbeatInterval: cfg.heartbeatIntervalMs,
    rebalanceTimeout: cfg.rebalanceTimeoutMs,
    minBytes: cfg.fetch.minBytes,
    maxBytes: cfg.fetch.maxBytes,
    maxBytesPerPartition: cfg.fetch.maxBytesPerPartition,
    maxWaitTime: cfg.fetch.maxWaitTimeMs,
    isolationLevel: cfg.isolationLevel === 'read_committed' ? 1 : 0,
  });
  const counter = new EventCounter(events);
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  try {
    stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
    stream.on('data', () => counter.add(1));
    await waitUntil('the bare platformatic consumer to read the backlog', () => counter.done, 600_000);
  } finally {
    await stream?.close().catch(() => undefined);
    await consumer.close(true);
  }
  return counter.rate();
}

export type KafkaClient = KafkaConfig['client'];
export const KAFKA_CLIENTS: readonly KafkaClient[] = ['kafkajs', 'platformatic'];

const BARE: Record<KafkaClient, typeof bareKafkajs> = { kafkajs: bareKafkajs, platformatic: barePlatformatic };

/** One reader of the backlog: a bare client, or Sluice on that client. */
export interface Contender {
  name: string;
  client: KafkaClient;
  sluice: boolean;
  run(round: number): Promise<Rate & { commits?: number }>;
}

/** `--clients kafkajs,platformatic`: the libraries to compare, each checked. */
export function parseClients(value: string): KafkaClient[] {
  const clients = value.split(',').map((client) => client.trim());
  for (const client of clients) {
    if (!KAFKA_CLIENTS.includes(client as KafkaClient))
      throw new Error(`bench: --clients ${value}: unknown client ${client} (expected ${KAFKA_CLIENTS.join(', ')})`);
  }
  return clients as KafkaClient[];
}

/**
 * Per library, the bare client then Sluice on it: [bare kafkajs, Sluice kafkajs, bare
 * platformatic, Sluice platformatic]. Every run gets a group of its own (`run`, client, round).
 */
export function kafkaContenders(
  clients: readonly KafkaClient[],
  backlog: { cfg: KafkaConfig; topic: string; events: number; run: string },
  sluice: (client: KafkaClient, round: number) => Promise<Rate & { commits: number }>,
): Contender[] {
  return clients.flatMap((client): Contender[] => [
    {
      name: `bare ${client}`,
      client,
      sluice: false,
      run: (round) => BARE[client](backlog.cfg, backlog.topic, `bench-bare-${backlog.run}-${client}-${round}`, backlog.events),
    },
    { name: `Sluice ${client}`, client, sluice: true, run: (round) => sluice(client, round) },
  ]);
}

export interface ClientComparison {
  bare: Rate;
  sluice: Rate;
  /** Best Sluice rate / best bare rate of the same library. */
  ratio: number;
  /** Least bare CPU per event / least Sluice CPU per event: the rate ratio where the CPU is the limit. */
  cpuRatio: number;
}

/** Best rate and least CPU per event of each contender, the ratios per library, as a table and JSON. */
export function summarizeContenders(contenders: readonly Contender[], results: ReadonlyMap<string, readonly Rate[]>) {
  const best = new Map(
    contenders.map((c) => {
      const runs = results.get(c.name) ?? [];
      return [
        c.name,
        {
          eventsPerSecond: Math.max(...runs.map((r) => r.eventsPerSecond)),
          cpuUsPerEvent: Math.min(...runs.map((r) => r.cpuUsPerEvent)),
        } satisfies Rate,
      ];
    }),
  );
  const byClient: Partial<Record<KafkaClient, ClientComparison>> = {};
  for (const client of new Set(contenders.map((c) => c.client))) {
    const bare = best.get(`bare ${client}`)!;
    const sluice = best.get(`Sluice ${client}`)!;
    byClient[client] = {
      bare,
      sluice,
      ratio: Number((sluice.eventsPerSecond / bare.eventsPerSecond).toFixed(3)),
      cpuRatio: Number((bare.cpuUsPerEvent / sluice.cpuUsPerEvent).toFixed(3)),
    };
  }
  const rows = contenders.map((c) => {
    const rate = best.get(c.name)!;
    const comparison = byClient[c.client]!;
    return [
      c.name,
      num(rate.eventsPerSecond),
      rate.cpuUsPerEvent.toFixed(2),
      c.sluice ? comparison.ratio.toFixed(3) : '',
      c.sluice ? comparison.cpuRatio.toFixed(3) : '',
      (results.get(c.name) ?? []).map((r) => num(r.eventsPerSecond)).join(' / '),
    ];
  });
  return {
    table: table(['contender', 'best rate/s', 'CPU µs/event', 'Sluice/bare rate', 'Sluice/bare CPU', 'rounds'], rows),
    byClient,
    json: Object.fromEntries(
      contenders.map((c) => [
        c.name,
        {
          eventsPerSecond: Math.round(best.get(c.name)!.eventsPerSecond),
          cpuUsPerEvent: Number(best.get(c.name)!.cpuUsPerEvent.toFixed(3)),
          rounds: (results.get(c.name) ?? []).map((r) => Math.round(r.eventsPerSecond)),
        },
      ]),
    ),
  };
}
