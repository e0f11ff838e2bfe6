// `tsx deploy/drill/render.ts drill.json [drill.html]`: the table (and HTML page) again from a
// drill's --out JSON, e.g. of a drill stopped half-way (its rows are written after each run).
import { readFileSync, writeFileSync } from 'node:fs';
import { type DrillMeta, renderHtmlPage, renderTable, summarise } from './drill-report.ts';
import type { DrillRow } from './drill-run.ts';

const [jsonPath, htmlPath] = process.argv.slice(2);
if (!jsonPath) throw new Error('usage: tsx deploy/drill/render.ts drill.json [drill.html]');
const data = JSON.parse(readFileSync(jsonPath, 'utf8')) as Partial<DrillMeta> & { rows: DrillRow[] };
const summaries = summarise(data.rows);
console.log(renderTable(summaries));
if (htmlPath) {
  const meta: DrillMeta = {
    startedAt: data.startedAt ?? '?',
    durationS: data.durationS ?? 0,
    repeat: data.repeat ?? Math.max(...data.rows.map((r) => r.repeat)),
    settings: data.settings ?? {},
    groupWait: data.groupWait ?? '1s',
  };
  writeFileSync(htmlPath, renderHtmlPage(summaries, meta));
}
