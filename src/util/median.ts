/**
 * The middle value of a list: the mean of the two middle ones for an even count, NaN for none.
 * The benches summarize their rounds with it (a round's neighbours on a shared machine move a
 * mean; they move a median only when they hit most rounds).
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
