// What a scenario counts from the recording handler's lines (sluice-child.ts).
import type { Processed } from './sluice-child.ts';

/**
 * Lost (never recorded), duplicates (records beyond the first per number) and per-key order
 * violations: first deliveries of a key whose number is below one first-delivered before it
 * (records in run order, and in each run in the order the handler wrote them).
 */
export function countDeliveries(
  records: readonly Processed[],
  events: number,
  ordered: boolean,
): { lost: number; lostExamples: number[]; duplicates: number; orderViolations: number } {
  const seen = new Set<number>();
  const highest = new Map<string, number>();
  let orderViolations = 0;
  for (const { n, key } of records) {
    if (seen.has(n)) continue;
    seen.add(n);
    if (!ordered) continue;
    const before = highest.get(key);
    if (before !== undefined && n < before) orderViolations++;
    else highest.set(key, n);
  }
  const lostExamples: number[] = [];
  let lost = 0;
  for (let n = 0; n < events; n++) {
    if (seen.has(n)) continue;
    lost++;
    if (lostExamples.length < 5) lostExamples.push(n);
  }
  return { lost, lostExamples, duplicates: records.length - seen.size, orderViolations };
}
