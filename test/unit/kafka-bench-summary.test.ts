// `npm run bench:kafka`'s comparison (src/bench/kafka-bare.ts): what it reports as Sluice's cost
// over the bare client of the same library is what users read to judge Sluice (issue #10).
import { describe, expect, it } from 'vitest';
import type { Rate } from '../../src/bench/bench-support.ts';
import { type Contender, type KafkaClient, summarizeContenders } from '../../src/bench/kafka-bare.ts';

const contender = (client: KafkaClient, sluice: boolean): Contender => ({
  name: `${sluice ? 'Sluice' : 'bare'} ${client}`,
  client,
  sluice,
  run: () => Promise.reject(new Error('not run here')),
});
const rounds = (...rates: number[]): Rate[] => rates.map((eventsPerSecond) => ({ eventsPerSecond, cpuUsPerEvent: 1e6 / eventsPerSecond }));

describe('bench:kafka summary', () => {
  const contenders = [contender('kafkajs', false), contender('kafkajs', true)];

  it("gives the median of each round's Sluice / bare beside best round / best round", () => {
    // The machine slows down over the run; Sluice is 0.9 of bare in every round but one, and the
    // bare client had one lucky round.
    const results = new Map([
      ['bare kafkajs', rounds(1_000, 900, 1_600, 700, 600)],
      ['Sluice kafkajs', rounds(900, 810, 1_000, 630, 540)],
    ]);
    const { byClient, json } = summarizeContenders(contenders, results);
    const kafkajs = byClient.kafkajs!;
    expect(kafkajs.pairedRatio).toBe(0.9);
    expect(kafkajs.ratio).toBe(0.625); // 1,000 / 1,600: best-of-N follows the lucky round
    expect(kafkajs.cpuRatio).toBe(0.625); // least CPU per event, bare / Sluice
    expect(json['Sluice kafkajs']!.rounds).toEqual([900, 810, 1_000, 630, 540]);
  });

  it('takes the mean of the two middle rounds for an even count', () => {
    const results = new Map([
      ['bare kafkajs', rounds(1_000, 1_000, 1_000, 1_000)],
      ['Sluice kafkajs', rounds(800, 900, 1_000, 1_100)],
    ]);
    expect(summarizeContenders(contenders, results).byClient.kafkajs!.pairedRatio).toBe(0.95);
  });

  it('compares each library with itself only', () => {
    const both = [...contenders, contender('platformatic', false), contender('platformatic', true)];
    const results = new Map([
      ['bare kafkajs', rounds(500, 500, 500)],
      ['Sluice kafkajs', rounds(450, 450, 450)],
      ['bare platformatic', rounds(1_000, 1_000, 1_000)],
      ['Sluice platformatic', rounds(800, 800, 800)],
    ]);
    const { byClient, table } = summarizeContenders(both, results);
    expect(byClient.kafkajs!.pairedRatio).toBe(0.9);
    expect(byClient.platformatic!.pairedRatio).toBe(0.8);
    expect(table).toContain('paired, median');
  });
});
