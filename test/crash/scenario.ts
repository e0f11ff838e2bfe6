// The crash-restart harness's vocabulary (issue #12). Every scenario (SIGKILL ×3, broker outage,
// SIGTERM handoff, …) runs real `sluice run` children against a real broker and returns rows of
// this shape; `npm run crash-restart` prints them as one table and fails when a row fails.
// A scenario is a plain async function, so a vitest test can run the same code and assert on it.

/** One line of the harness table: one scenario on one broker (or broker variant). */
export interface ScenarioRow {
  /** What was done, e.g. `sigkill x3`, `broker outage 15s`, `sigterm handoff`. */
  scenario: string;
  /** Broker and variant, e.g. `kafka (kafkajs)`, `kinesis (kinesalite)`, `pubsub ordered (pstest)`. */
  broker: string;
  /** Events published before (or during) the run, each with a unique sequence number. */
  events: number;
  /** Sequence numbers never recorded by the handler. Must be 0. */
  lost: number;
  /** Records beyond the first per sequence number. */
  duplicates: number;
  /** Per-key first deliveries out of sequence order; `undefined` where the row does not order. */
  orderViolations?: number;
  /** Restart (process start) → first processed event, ms, one per restart. */
  resumeMs?: number[];
  /** SIGTERM of one member → the other member processes that member's share, ms. */
  takeoverMs?: number;
  /** Last fault removed (final start, outage end) → every event processed, ms. */
  drainMs: number;
  /** The ack audit's verdict (ack audit mode on), or `off`. */
  audit: { acks: number; violations: number } | 'off';
  /** Pass criteria beyond `lost === 0` (and a clean audit when on). */
  bounds?: { duplicatesMax?: number; resumeMsMax?: number; takeoverMsMax?: number };
  /** Free text for the table's notes column. */
  notes?: string;
  /** The scenario could not run to the end (setup failed, a child exited by itself): the row fails. */
  error?: string;
  /**
   * A documented fault of the broker implementation (not of Sluice) that makes this row lose or
   * reorder events, with where it is reproduced without Sluice. Losses and order violations are
   * reported but do not fail the row; the audit must still be clean (Sluice acked nothing it had
   * not processed), and the same row on a faithful implementation must pass.
   */
  knownFault?: string;
}

/** Why a row failed, or an empty list. */
export function rowFailures(row: ScenarioRow): string[] {
  const failures: string[] = [];
  if (row.error) failures.push(`error: ${row.error}`);
  if (row.lost > 0 && !row.knownFault) failures.push(`${row.lost} lost`);
  if (row.audit !== 'off' && row.audit.violations > 0) failures.push(`audit: ${row.audit.violations} acked but not processed`);
  if (row.knownFault && row.audit === 'off') failures.push('a known broker fault needs the audit on to clear Sluice');
  if (row.orderViolations !== undefined && row.orderViolations > 0 && !row.knownFault)
    failures.push(`${row.orderViolations} order violations`);
  const b = row.bounds ?? {};
  if (b.duplicatesMax !== undefined && row.duplicates > b.duplicatesMax) failures.push(`${row.duplicates} duplicates > ${b.duplicatesMax}`);
  const slowest = Math.max(0, ...(row.resumeMs ?? []));
  if (b.resumeMsMax !== undefined && slowest > b.resumeMsMax) failures.push(`resume ${slowest} ms > ${b.resumeMsMax} ms`);
  if (b.takeoverMsMax !== undefined && (row.takeoverMs ?? Number.POSITIVE_INFINITY) > b.takeoverMsMax)
    failures.push(`takeover ${row.takeoverMs ?? '∞'} ms > ${b.takeoverMsMax} ms`);
  return failures;
}
