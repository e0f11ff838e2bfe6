import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchOutput } from '../../../src/bench/bench-command.ts';
import { provenance } from '../../../src/bench/provenance.ts';
import { renderBenchReport } from '../../../src/bench/report-html.ts';
import { runBroker, type BrokerRun } from '../../../src/bench/run-broker.ts';
import { chromiumMissing, launchChromium, layoutOf, roundTicks, ticksOf } from '../../report-browser.ts';
import { requireBroker } from '../brokers.ts';

const BROKERS = [
  { name: 'memory', needs: [] },
  { name: 'kafka', needs: ['kafka'] },
  // The other Kafka client, as `sluice bench --brokers kafka:platformatic` runs it: its own series.
  { name: 'kafka:platformatic', needs: ['kafka'] },
  { name: 'kinesis', needs: ['kinesis', 'dynamodb'] },
  { name: 'pubsub', needs: ['pubsub'] },
] as const;

const workload = { rate: 300, durationS: 3, warmupS: 1, messageSize: 1024, keys: 10, partitions: 2, work: 'none', drainTimeoutS: 60 };

describe('sluice bench across every broker (small scale) and its HTML report in a real browser', () => {
  const runs: BrokerRun[] = [];

  for (const broker of BROKERS) {
    it(`${broker.name}: results are complete and consistent`, async (ctx) => {
      for (const need of broker.needs) requireBroker(need, ctx);
      const run = await runBroker(broker.name, workload);
      runs.push(run);
      console.log(
        `bench ${broker.name}: sent ${run.sent}, delivered ${run.delivery.unique}, lost ${run.delivery.lost}, duplicates ${run.delivery.duplicates}, p99 ${run.latencyMs.p99.toFixed(1)} ms`,
      );
      expect(run.sent).toBe(workload.rate * (workload.durationS + workload.warmupS));
      expect(run.delivery.unique + run.delivery.lost).toBe(run.sent);
      expect(run.delivery.lost).toBe(0);
      expect(run.delivery.foreign).toBe(0);
      expect(run.latencyMs.count).toBeGreaterThan(0);
      expect(run.latencyMs.p50).toBeGreaterThan(0);
      expect(run.latencyMs.max).toBeGreaterThanOrEqual(run.latencyMs.p99);
      // Sent is what the producer had confirmed when sampled: a consumer may see an event first.
      expect(run.series.length).toBeGreaterThan(1);
      expect(run.series.every((point) => point.backlog >= 0 && point.delivered <= point.sent)).toBe(true);
      expect(run.series[run.series.length - 1]).toMatchObject({ sent: run.sent, delivered: run.delivery.unique, backlog: 0 });
    });
  }

  it('labels a broker run through a chosen client with that client', () => {
    const labels = runs.map((run) => run.broker);
    if (labels.includes('kafka (kafkajs)')) expect(labels).toContain('kafka (platformatic)');
  });

  it('renders the report in headless Chromium with one series per broker in every chart', async (ctx) => {
    const missing = chromiumMissing();
    if (missing) return ctx.skip(missing);
    expect(runs.length).toBeGreaterThan(0);
    const { rate, ...rest } = workload;
    const output: BenchOutput = {
      kind: 'bench',
      ...provenance(),
      startedAt: new Date().toISOString(),
      options: { brokers: runs.map((run) => run.broker), rate, workload: rest, profiles: {}, set: [] },
      runs,
    };
    const file = join(await mkdtemp(join(tmpdir(), 'sluice-report-')), 'report.html');
    await writeFile(file, renderBenchReport(output));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
      const requests: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(`file://${file}`);
      const charts = await page.$$eval('figure', (figures) =>
        figures.map((figure) => ({
          title: figure.querySelector('figcaption')?.textContent ?? '',
          brokers: [...figure.querySelectorAll('path.series')].map((path) => path.getAttribute('data-broker')),
          drawn: [...figure.querySelectorAll('path.series')].every((path) => (path as SVGPathElement).getTotalLength() > 0),
        })),
      );
      expect(charts).toHaveLength(3);
      for (const chart of charts) {
        expect(chart.brokers.sort(), chart.title).toEqual(runs.map((run) => run.broker).sort());
        expect(chart.drawn, chart.title).toBe(true);
      }
      const rows = await page.$$eval('table.results tbody tr', (trs) => trs.map((tr) => tr.querySelector('td')?.textContent));
      expect(rows.sort()).toEqual(runs.map((run) => run.broker).sort());
      // Real runs' figures: an 800 px window holds the report, the time axes are round.
      const layout = await layoutOf(page);
      expect(layout.scrollWidth).toBeLessThanOrEqual(800);
      expect(layout.overflowing).toEqual([]);
      for (const chart of (await ticksOf(page, 'y')).filter((c) => !c.title.includes('percentile')))
        expect(roundTicks(chart.ticks), `${chart.title}: ${chart.ticks}`).toBe(true);
      expect(await page.locator('details.config').count()).toBe(runs.length + 1);
      // Self-contained: nothing but the page itself was loaded.
      expect(requests.filter((url) => !url.startsWith('file://'))).toEqual([]);
      await page.screenshot({ path: file.replace(/\.html$/, '.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
