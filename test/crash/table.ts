// The harness's one table (markdown), from the rows of every scenario.
import { rowFailures, type ScenarioRow } from './scenario.ts';

/** The rows as a markdown table. */
export function formatTable(rows: readonly ScenarioRow[]): string {
  const seconds = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '—' : (ms / 1000).toFixed(1));
  const takeover = rows.some((row) => row.takeoverMs !== undefined);
  const header = ['scenario', 'broker', 'events', 'lost', 'duplicates', 'order violations', 'resume s (per restart)'];
  if (takeover) header.push('takeover s');
  header.push('drain s', 'audit', 'result', 'notes');
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const failures = rowFailures(row);
    const cells = [
      row.scenario,
      row.broker,
      String(row.events),
      String(row.lost),
      String(row.duplicates),
      row.orderViolations === undefined ? 'n/a' : String(row.orderViolations),
      row.resumeMs && row.resumeMs.length > 0 ? row.resumeMs.map(seconds).join(' / ') : '—',
    ];
    if (takeover) cells.push(seconds(row.takeoverMs));
    cells.push(
      seconds(row.drainMs),
      row.audit === 'off'
        ? 'off'
        : `${row.audit.violations === 0 ? 'clean' : `${row.audit.violations} violations`} (${row.audit.acks} acks)`,
      failures.length > 0
        ? `FAIL: ${failures.join(', ')}`
        : row.knownFault && (row.lost > 0 || (row.orderViolations ?? 0) > 0)
          ? 'broker fault'
          : 'pass',
      [row.error ? `error: ${row.error}` : '', row.knownFault ? `known broker fault: ${row.knownFault}` : '', row.notes ?? '']
        .filter(Boolean)
        .join('; '),
    );
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
