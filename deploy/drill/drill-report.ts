// The drill's results: one summary per broker × fault (medians over --repeat), printed as a table,
// written as JSON (--out) and as a self-contained HTML section (--report) in the bench report's
// style (src/bench/report-html.ts).
import { FAULTS } from './drill-faults.ts';
import type { DrillRow } from './drill-run.ts';

/** The issue's goals: detected < 60 s (median), recovered < 120 s after the fault ends, 0 lost. */
export const GOALS = { detectS: 60, recoverS: 120 } as const;

export interface DrillSummary {
  broker: string;
  fault: string;
  title: string;
  intended: string;
  runs: number;
  /** Median over the runs; null when the alert never came in at least half of them. */
  detectS: number | null;
  recoverS: number | null;
  detectEachS: (number | null)[];
  recoverEachS: (number | null)[];
  lost: number;
  duplicates: number;
  others: string[];
  notApplicable?: string;
  errors: string[];
  notes: string[];
  /** Every goal met (n/a rows: true). */
  ok: boolean;
}

/** Median where a missing value (null) counts as infinitely late. */
export function median(values: (number | null)[]): number | null {
  if (values.length === 0) return null;
  const sorted = values.map((v) => v ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const m = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Number.isFinite(m) ? Math.round(m * 10) / 10 : null;
}

function mergeOthers(others: string[]): string[] {
  const earliest = new Map<string, number>();
  for (const other of others) {
    const [name = other, at = '0'] = other.split('@');
    const s = Number.parseInt(at, 10);
    earliest.set(name, Math.min(earliest.get(name) ?? s, s));
  }
  return [...earliest].sort((a, b) => a[1] - b[1]).map(([name, s]) => `${name}@${s}s`);
}

export function summarise(rows: DrillRow[]): DrillSummary[] {
  const groups = new Map<string, DrillRow[]>();
  for (const row of rows) {
    const key = `${row.broker}\u0000${row.fault}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const order = (row: DrillRow) => `${row.broker}\u0000${String(FAULTS.findIndex((f) => f.id === row.fault)).padStart(2, '0')}`;
  const sorted = [...groups.values()].sort((a, b) => order(a[0]!).localeCompare(order(b[0]!)));
  return sorted.map((runs) => {
    const first = runs[0]!;
    const detectEachS = runs.map((r) => r.detectS);
    const recoverEachS = runs.map((r) => r.recoverS);
    const summary: DrillSummary = {
      broker: first.broker,
      fault: first.fault,
      title: first.title,
      intended: first.intended,
      runs: runs.length,
      detectS: median(detectEachS),
      recoverS: median(recoverEachS),
      detectEachS,
      recoverEachS,
      lost: runs.reduce((sum, r) => sum + r.lost, 0),
      duplicates: runs.reduce((sum, r) => sum + r.duplicates, 0),
      // One entry per alert name: the earliest time any run saw it.
      others: mergeOthers(runs.flatMap((r) => r.others)),
      notApplicable: first.notApplicable,
      errors: runs.flatMap((r) => (r.error ? [r.error] : [])),
      notes: runs.flatMap((r) => {
        const tag = runs.length > 1 ? `#${r.repeat}: ` : '';
        const notes = r.note ? [`${tag}${r.note}`] : [];
        // Events that arrive long after the producer stopped: late redelivery the lag metric may not show.
        if (r.drainS !== null && r.drainS > 15) notes.push(`${tag}last events recorded ${Math.round(r.drainS)} s after the load stopped`);
        return notes;
      }),
      ok: true,
    };
    summary.ok =
      summary.notApplicable !== undefined ||
      (summary.errors.length === 0 &&
        summary.lost === 0 &&
        summary.detectS !== null &&
        summary.detectS < GOALS.detectS &&
        summary.recoverS !== null &&
        summary.recoverS < GOALS.recoverS);
    return summary;
  });
}

const cell = (value: number | null) => (value === null ? '—' : value.toFixed(1));
const each = (values: (number | null)[]) => (values.length > 1 ? ` (${values.map(cell).join(', ')})` : '');

function cells(s: DrillSummary): string[] {
  if (s.notApplicable) return [s.broker, s.fault, s.intended, 'n/a', 'n/a', '', '', s.notApplicable];
  const remarks = [s.others.join(', '), ...s.notes, ...s.errors.map((e) => `error: ${e}`)].filter(Boolean).join('; ');
  return [
    s.broker,
    s.fault,
    s.intended,
    `${cell(s.detectS)}${each(s.detectEachS)}`,
    `${cell(s.recoverS)}${each(s.recoverEachS)}`,
    String(s.lost),
    String(s.duplicates),
    remarks || '—',
  ];
}

const HEADERS = ['broker', 'fault', 'intended alert', 'detect s', 'recover s', 'lost', 'dup', 'other alerts / notes'];

/** A plain-text table for the terminal (and the README). */
export function renderTable(summaries: DrillSummary[]): string {
  const rows = [HEADERS, ...summaries.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface DrillMeta {
  startedAt: string;
  durationS: number;
  repeat: number;
  settings: Record<string, unknown>;
  groupWait: string;
}

/** The HTML section: the table, rows that miss a goal marked, and how it was measured. */
export function renderHtmlSection(summaries: DrillSummary[], meta: DrillMeta): string {
  const body = summaries
    .map(
      (s) =>
        `<tr class="${s.ok ? 'ok' : 'miss'}">${cells(s)
          .map((c) => `<td>${escapeHtml(c)}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  return `<section id="drill"><h2>Drill: time to detect and recover per fault</h2>
<p class="note">Real Prometheus 2.42 (scrape and evaluation every 5 s, the shipped rules) and Alertmanager 0.25
(group_wait ${escapeHtml(meta.groupWait)}); detect = fault start → intended alert at the webhook; recover = fault end →
lag &lt; 5 s, up and ready, and the alert resolved. Medians of ${meta.repeat} run(s); goals: detect &lt; ${GOALS.detectS} s,
recover &lt; ${GOALS.recoverS} s, 0 lost. Started ${escapeHtml(meta.startedAt)}, took ${Math.round(meta.durationS)} s.</p>
<table><thead><tr>${HEADERS.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>
${body}
</tbody></table>
<p class="note">Settings: ${escapeHtml(JSON.stringify(meta.settings))}</p></section>`;
}

export function renderHtmlPage(summaries: DrillSummary[], meta: DrillMeta): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Sluice drill</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#111827;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #d1d5db;padding:3px 8px;text-align:right}td:first-child,th:first-child,td:nth-child(2),td:nth-child(3),td:last-child{text-align:left}
tr.miss td{background:#fef2f2}tr.ok td:nth-child(4),tr.ok td:nth-child(5){background:#ecfdf5}
.note{color:#4b5563}
</style></head><body><h1>Sluice drill</h1>
${renderHtmlSection(summaries, meta)}
</body></html>
`;
}
