// `--keys N --key-skew uniform|zipf:S`: which key each event carries. Keys matter twice: with
// pool.orderByKey a key's events run one at a time, and a key always lands on the same
// partition / shard (hash routing), so a hot key makes a hot partition.
import { ConfigError } from '../errors.ts';
import type { Random } from './random.ts';

export interface KeySampler {
  /** Distinct keys; 0 means events carry no key. */
  readonly count: number;
  /** A key index in [0, count), or -1 without keys. */
  next(): number;
  /** Share of events carrying the most frequent key. */
  readonly hottestShare: number;
}

export const keySkewForms = 'uniform, zipf:<s> (s > 0, e.g. zipf:1.1: key k is drawn with weight 1/k^s)';

export function keySampler(count: number, skew: string, random: Random, flag = '--key-skew'): KeySampler {
  if (!Number.isInteger(count) || count < 0) throw new ConfigError('--keys', `expected a whole number >= 0, got ${count}`);
  if (count === 0) return { count, next: () => -1, hottestShare: 0 };
  if (skew === 'uniform') return { count, next: () => Math.floor(random.next() * count), hottestShare: 1 / count };
  const match = /^zipf:(\d+(?:\.\d+)?)$/.exec(skew.trim());
  const s = match ? Number(match[1]) : Number.NaN;
  if (!(s > 0)) throw new ConfigError(flag, `expected ${keySkewForms}, got "${skew}"`);
  // Cumulative weights, searched by bisection: ~10 steps for 1000 keys.
  const cdf = new Float64Array(count);
  let total = 0;
  for (let k = 0; k < count; k++) {
    total += 1 / (k + 1) ** s;
    cdf[k] = total;
  }
  for (let k = 0; k < count; k++) cdf[k]! /= total;
  return {
    count,
    hottestShare: cdf[0]!,
    next: () => {
      const u = random.next();
      let low = 0;
      let high = count - 1;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (cdf[middle]! < u) low = middle + 1;
        else high = middle;
      }
      return low;
    },
  };
}

/**
 * The partition / shard of a key: a fixed integer hash (the real brokers hash the key's bytes,
 * murmur2 / MD5 / FNV-1a; any well-mixed hash spreads keys alike). Keyless events go round-robin.
 */
export function partitionOfKey(key: number, partitions: number): number {
  let h = Math.imul(key ^ 0x5bd1e995, 0x27d4eb2d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x165667b1);
  return ((h ^ (h >>> 13)) >>> 0) % partitions;
}
