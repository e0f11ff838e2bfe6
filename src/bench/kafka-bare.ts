/**
 * The contenders of `npm run bench:kafka`: per client library, the library alone reading the
 * backlog and only counting (adapters/kafka/bench-hooks.ts, reached through the composition
 * root: no commits, no queue, the least a consumer of that library can cost), then Sluice on the
 * same library; and the table that compares them.
 */
import { bareRate } from './bench-adapters.ts';
import type { Rate } from './bench-support.ts';
import { num, table } from './table.ts';
import { median } from '../util/median.ts';

/** The `broker.kafka` section both contenders read with (`client` and `group` set per run). */
export type KafkaSection = Record<string, unknown> & { readonly brokers: readonly string[] };

/** The client libraries Sluice's Kafka adapter can run on (`broker.kafka.client`). */
export type KafkaClient = 'kafkajs' | 'platformatic';
export const KAFKA_CLIENTS: readonly KafkaClient[] = ['kafkajs', 'platformatic'];

/** One reader of the backlog: a bare client, or Sluice on that client. */
export interface Contender {
  name: string;
  client: KafkaClient;
  sluice: boolean;
  run(round: number): Promise<Rate & { commits?: number }>;
}

/** Unused by Kafka's bare readers (no flow control of their own), required by the hook. */
const BARE_QUEUE = { maxEvents: 10_000, maxBytes: 64 << 20 };

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
  backlog: { cfg: KafkaSection; topic: string; events: number; run: string },
  sluice: (client: KafkaClient, round: number) => Promise<Rate & { commits: number }>,
): Contender[] {
  return clients.flatMap((client): Contender[] => [
    {
      name: `bare ${client}`,
      client,
      sluice: false,
      run: (round) =>
        bareRate(
          'kafka',
          { ...backlog.cfg, client, topics: [backlog.topic], group: `bench-bare-${backlog.run}-${client}-${round}` },
          backlog.events,
          { queue: BARE_QUEUE },
        ),
    },
    { name: `Sluice ${client}`, client, sluice: true, run: (round) => sluice(client, round) },
  ]);
}

export interface ClientComparison {
  bare: Rate;
  sluice: Rate;
  /** Best Sluice rate / best bare rate of the same library. */
  ratio: number;
  /**
   * The median over rounds of Sluice's rate / the bare rate of the same library in the same round:
   * the two met the same neighbours and the same broker state, so this is the steadier estimate
   * where best-of-N picks whichever contender had the luckiest round.
   */
  pairedRatio: number;
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
    const bareRounds = results.get(`bare ${client}`) ?? [];
    const perRound = (results.get(`Sluice ${client}`) ?? []).map((r, i) => r.eventsPerSecond / bareRounds[i]!.eventsPerSecond);
    byClient[client] = {
      bare,
      sluice,
      ratio: Number((sluice.eventsPerSecond / bare.eventsPerSecond).toFixed(3)),
      pairedRatio: Number(median(perRound).toFixed(3)),
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
      c.sluice ? comparison.pairedRatio.toFixed(3) : '',
      c.sluice ? comparison.cpuRatio.toFixed(3) : '',
      (results.get(c.name) ?? []).map((r) => num(r.eventsPerSecond)).join(' / '),
    ];
  });
  return {
    table: table(['contender', 'best rate/s', 'CPU µs/event', 'Sluice/bare rate', 'paired, median', 'Sluice/bare CPU', 'rounds'], rows),
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
