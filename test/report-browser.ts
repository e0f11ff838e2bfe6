// Rendering a Sluice HTML report in headless Chromium, for the unit test (a fixture report) and
// the integration test (a report of real runs). Chromium missing fails in CI (.ci/run installs
// it) and skips, loudly, elsewhere.
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Throws in CI when Chromium is missing; elsewhere returns the reason to skip (after a warning). */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`;
  if (process.env.CI === 'true') throw new Error(reason);
  console.warn(`[skip] ${reason}`);
  return reason;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface Layout {
  viewport: number;
  scrollWidth: number;
  /** Elements whose box reaches past the viewport's right edge (or starts left of 0). */
  overflowing: string[];
}

/** The page's horizontal layout at its current viewport. */
export function layoutOf(page: Page): Promise<Layout> {
  return page.evaluate(() => {
    const viewport = window.innerWidth;
    const overflowing: string[] = [];
    for (const element of document.body.querySelectorAll('*')) {
      const box = element.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (box.right > viewport + 0.5 || box.left < -0.5)
        overflowing.push(
          `${element.tagName.toLowerCase()}${element.className ? `.${String(element.className)}` : ''} ${Math.round(box.left)}..${Math.round(box.right)}`,
        );
    }
    return { viewport, scrollWidth: document.documentElement.scrollWidth, overflowing };
  });
}

/** The numbers of a chart's axis labels (`tick-x` / `tick-y`), by chart caption. */
export function ticksOf(page: Page, axis: 'x' | 'y'): Promise<{ title: string; ticks: number[] }[]> {
  return page.$$eval(
    'figure',
    (figures, cls) =>
      figures.map((figure) => ({
        title: figure.querySelector('figcaption')?.textContent ?? '',
        ticks: [...figure.querySelectorAll(`text.${cls}`)].map((t) => Number((t.textContent ?? '').replace(/,/g, ''))),
      })),
    `tick-${axis}`,
  );
}

/** Ticks are round: equally spaced by 1, 2 or 5 times a power of ten, each a multiple of the step. */
export function roundTicks(ticks: number[]): boolean {
  if (ticks.length < 2) return false;
  const step = ticks[1]! - ticks[0]!;
  const mantissa = Number((step / 10 ** Math.floor(Math.log10(step))).toPrecision(6));
  return (
    [1, 2, 5].includes(mantissa) &&
    ticks.every((t, i) => Math.abs(t - ticks[0]! - i * step) <= step * 1e-9 && Math.abs(t / step - Math.round(t / step)) < 1e-9)
  );
}
