import type { BrokerRun, Workload } from './run-broker.ts';
import { ms, num } from './table.ts';

/**
 * The columns of a bench result, one list for the terminal table (bench-command.ts) and the
 * HTML report (report-html.ts): a figure shown in one is shown in the other.
 */
export const BENCH_COLUMNS: { header: string; title: string; cell: (run: BrokerRun) => string | number }[] = [
  { header: 'broker', title: 'broker (and client)', cell: (r) => r.broker },
  {
    header: 'rate/s',
    title: 'offered rate, events/s (open loop; a --workload shape: its mean over warm-up + duration)',
    cell: (r) => num(r.workload.rate),
  },
  { header: 'throughput/s', title: 'delivered events/s over the measured window (warm-up excluded)', cell: (r) => num(r.throughput) },
  { header: 'sent', title: 'events the broker confirmed, warm-up included', cell: (r) => num(r.sent) },
  {
    header: 'lost',
    title: 'sent but not delivered by the end of the drain (marked * when the drain timeout cut off events still arriving: late, not lost)',
    cell: (r) => `${num(r.delivery.lost)}${cutOff(r) ? '*' : ''}`,
  },
  { header: 'dups', title: 'deliveries beyond the first of an event', cell: (r) => num(r.delivery.duplicates) },
  { header: 'p50 ms', title: 'end-to-end latency from the intended send time, median', cell: (r) => ms(r.latencyMs.p50) },
  { header: 'p90 ms', title: 'end-to-end latency, 90th percentile', cell: (r) => ms(r.latencyMs.p90) },
  { header: 'p99 ms', title: 'end-to-end latency, 99th percentile', cell: (r) => ms(r.latencyMs.p99) },
  { header: 'p99.9 ms', title: 'end-to-end latency, 99.9th percentile', cell: (r) => ms(r.latencyMs.p999) },
  { header: 'max ms', title: 'end-to-end latency, maximum', cell: (r) => ms(r.latencyMs.max) },
  {
    header: 'publish p99',
    title: "producer's publish call to broker confirmation, 99th percentile, ms",
    cell: (r) => ms(r.publishLatencyMs.p99),
  },
  { header: 'cpu %', title: 'consumer process CPU, % of one core', cell: (r) => r.cpuPercent },
  { header: 'rss MB', title: 'consumer process peak resident memory', cell: (r) => r.peakRssMB },
];

/** The cells of a run's row; a failed run shows its error after the broker and rate. */
export function benchRow(run: BrokerRun): (string | number)[] {
  if (run.error) return [run.broker, num(run.workload.rate), `error: ${run.error}`, ...BENCH_COLUMNS.slice(3).map(() => '')];
  return BENCH_COLUMNS.map((column) => column.cell(run));
}

/** Whether the drain timeout ended the run while events were still arriving. */
export const cutOff = (run: BrokerRun): boolean => run.drain?.ended === 'timeout' && run.delivery.lost > 0;

/**
 * Under the table, when a run's drain was cut off: its "lost" events were still arriving, so they
 * are late, and the run shows a configuration that does not keep up with the rate, not a loss.
 */
export function cutOffNote(runs: readonly BrokerRun[]): string | undefined {
  const cut = runs.filter(cutOff);
  if (cut.length === 0) return undefined;
  const which = cut.map((run) => `${run.broker} ${num(run.delivery.lost)}`).join(', ');
  return `*: the drain timeout (${cut[0]!.workload.drainTimeoutS} s) ended while events were still arriving (${which}): they are late, not known to be lost; the configuration does not keep up with the rate. Raise --drain-timeout to count them.`;
}

/**
 * Under the table: the warm-up is in some figures and not others. `counted`: the columns that do
 * count it (bench: sent, lost, dups; tune: lost).
 */
export function warmupNote(workload: Pick<Workload, 'warmupS' | 'durationS'>, counted = 'sent, lost and dups count them'): string {
  return workload.warmupS > 0
    ? `warm-up: the first ${workload.warmupS} s of each run are left out of throughput and latency (measured: the ${workload.durationS} s after); ${counted}.`
    : `no warm-up: throughput and latency cover all ${workload.durationS} s.`;
}
