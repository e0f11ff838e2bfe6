import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderBenchReport } from '../../src/bench/report-html.ts';
import { chromiumMissing, launchChromium, layoutOf, roundTicks, ticksOf } from '../report-browser.ts';
import { benchOutputFixture } from './bench-fixtures/bench-output.ts';

// The bench report as people see it, from a fixture (no broker needed): a laptop screen and an
// 800 px window, no horizontal overflow, every figure of the terminal, the metadata, round ticks.
describe('the bench HTML report in headless Chromium', () => {
  it('fits 1280 and 800 px wide windows and shows the table, the metadata and round ticks', { timeout: 90_000 }, async (ctx) => {
    const missing = chromiumMissing();
    if (missing) return ctx.skip(missing);
    const file = join(await mkdtemp(join(tmpdir(), 'sluice-report-')), 'report.html');
    await writeFile(file, renderBenchReport(benchOutputFixture()));
    const browser = await launchChromium();
    try {
      for (const [width, height] of [
        [1280, 800],
        [800, 600],
      ] as const) {
        const page = await browser.newPage({ viewport: { width, height } });
        await page.goto(`file://${file}`);
        const layout = await layoutOf(page);
        expect(layout.scrollWidth, `${width} px`).toBeLessThanOrEqual(width);
        expect(layout.overflowing, `${width} px`).toEqual([]);
        const headers = await page.$$eval('table.results th', (ths) => ths.map((th) => th.textContent));
        expect(headers).toEqual(
          expect.arrayContaining(['p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'publish p99', 'cpu %', 'throughput/s', 'lost', 'dups']),
        );
        const meta = Object.fromEntries(
          await page.$$eval('dl.meta dd', (dds) => dds.map((dd) => [dd.getAttribute('data-key'), dd.textContent])),
        );
        expect(meta).toMatchObject({ version: '0.1.0', commit: 'abc1234', node: 'v24.0.0', os: 'Linux 6.8.0 (x64)' });
        expect(meta.machine).toMatch(/Fixture CPU .*8 cores, 16 GB/);
        expect(await page.locator('details.config pre').count()).toBe(3); // the options, two runs' configs
        expect(await page.locator('details.config pre').first().textContent()).toContain('queue.policy=block');
        // The time charts: round ticks on both axes; the latency chart's y axis (log) too.
        for (const axis of ['x', 'y'] as const) {
          for (const chart of (await ticksOf(page, axis)).filter((c) => !c.title.includes('percentile'))) {
            expect(roundTicks(chart.ticks), `${chart.title} ${axis}: ${chart.ticks}`).toBe(true);
          }
        }
        const latencyY = (await ticksOf(page, 'y')).find((c) => c.title.includes('percentile'))!.ticks;
        expect(latencyY.every((t) => Number.isInteger(Math.log10(t)) || [2, 5].includes(t / 10 ** Math.floor(Math.log10(t))))).toBe(true);
        expect(await page.locator('g.band').count()).toBe(2);
        await page.close();
      }
      // Printed: A4 portrait, nothing overflows the page and no chart is cut by a page break.
      const page = await browser.newPage();
      await page.goto(`file://${file}`);
      await page.emulateMedia({ media: 'print' });
      await page.setViewportSize({ width: 718, height: 1000 });
      expect((await layoutOf(page)).overflowing).toEqual([]);
      const printed = await page.evaluate(() => ({
        background: getComputedStyle(document.body).backgroundColor,
        // Any element with a fill that is not white or transparent (printers drop or smear them).
        filled: [...document.querySelectorAll('body *')]
          .map((e) => getComputedStyle(e).backgroundColor)
          .filter((c) => c !== 'rgba(0, 0, 0, 0)' && c !== 'rgb(255, 255, 255)'),
        unbroken: [...document.querySelectorAll('figure, table, pre')].every((e) => getComputedStyle(e).breakInside === 'avoid'),
      }));
      expect(printed).toEqual({ background: 'rgb(255, 255, 255)', filled: [], unbroken: true });
      const pdf = await page.pdf({ format: 'A4' });
      expect(pdf.length).toBeGreaterThan(1000);
      await page.close();
    } finally {
      await browser.close();
    }
  });
});
