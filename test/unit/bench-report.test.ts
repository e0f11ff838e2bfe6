import { describe, expect, it } from 'vitest';
import { benchTable } from '../../src/bench/bench-command.ts';
import { cutOffNote } from '../../src/bench/bench-columns.ts';
import { logTicks, niceTicks } from '../../src/bench/chart-svg.ts';
import { redactSecrets } from '../../src/bench/provenance.ts';
import { renderBenchReport, renderTuneReport } from '../../src/bench/report-html.ts';
import type { TuneOutput } from '../../src/bench/tune.ts';
import { roundTicks } from '../report-browser.ts';
import { benchOutputFixture } from './bench-fixtures/bench-output.ts';

describe('round axis ticks', () => {
  it('steps of 1, 2 or 5 times a power of ten, covering the data', () => {
    expect(niceTicks(0, 1985, 4)).toEqual([0, 500, 1000, 1500, 2000]);
    expect(niceTicks(0, 1985)).toEqual([0, 500, 1000, 1500, 2000]);
    expect(niceTicks(0, 26)).toEqual([0, 10, 20, 30]);
    expect(niceTicks(0, 0.37)).toEqual([0, 0.1, 0.2, 0.3, 0.4]);
    expect(niceTicks(3, 97, 10)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(niceTicks(-7, 7)).toEqual([-10, -5, 0, 5, 10]);
    expect(niceTicks(0, 0)).toEqual([0, 1]);
    expect(niceTicks(5, 5)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    for (const [min, max] of [
      [0, 1],
      [0, 662],
      [0, 1323],
      [12, 99_999],
      [0.001, 0.0173],
      [0, 3_456_789],
    ] as const) {
      const ticks = niceTicks(min, max);
      expect(ticks[0]).toBeLessThanOrEqual(min);
      expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(max);
      expect(ticks.length).toBeLessThanOrEqual(7);
      expect(roundTicks(ticks), `${min}..${max}: ${ticks}`).toBe(true);
    }
  });

  it('log axes on powers of ten (with 2 and 5 between when the range is short)', () => {
    expect(logTicks(0.3, 140)).toEqual([0.1, 1, 10, 100, 1000]);
    expect(logTicks(3, 40)).toEqual([1, 2, 5, 10, 20, 50, 100]);
  });
});

describe('bench HTML report', () => {
  const output = benchOutputFixture();
  const html = renderBenchReport(output);

  it('has every column of the terminal table, in the same order', () => {
    const terminalHeaders = benchTable(output.runs).split('\n')[0]!.trim().split(/ {2,}/);
    const table = html.slice(html.indexOf('<table class="results">'), html.indexOf('</table>'));
    const htmlHeaders = [...table.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
    expect(htmlHeaders).toEqual(terminalHeaders);
    expect(htmlHeaders).toEqual(
      expect.arrayContaining(['p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'publish p99', 'cpu %', 'throughput/s', 'lost', 'dups']),
    );
    // The figures as the terminal prints them.
    const memoryRow = benchTable(output.runs).split('\n')[2]!.trim().split(/ {2,}/);
    const htmlRow = [...table.matchAll(/<tr><td>memory<\/td>(.*?)<\/tr>/g)][0]![1]!;
    expect(['memory', ...[...htmlRow.matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1])]).toEqual(memoryRow);
  });

  it('records version, commit, machine, the options and each run’s effective config', () => {
    expect(html).toContain('<dd data-key="version">0.1.0</dd>');
    expect(html).toContain('<dd data-key="commit">abc1234</dd>');
    expect(html).toMatch(/<dd data-key="machine">Fixture CPU @ 3.00GHz, 8 cores, 16 GB<\/dd>/);
    expect(html).toContain('<dd data-key="node">v24.0.0</dd>');
    expect(html).toContain('<dd data-key="os">Linux 6.8.0 (x64)</dd>');
    expect(html).toContain('queue.policy=block');
    expect(html).toMatch(/memory: effective Sluice config<\/summary><pre>broker:/);
  });

  it('shades the warm-up on the time charts and prints without fills or split charts', () => {
    expect(html.match(/<g class="band">/g)).toHaveLength(2);
    expect(html).toMatch(/@media print\{[\s\S]*break-inside:avoid/);
    expect(html).toContain('<meta name="viewport"');
  });

  it('masks credentials in configs', () => {
    expect(
      redactSecrets({
        kinesis: { credentials: { accessKeyId: 'AKIA', secretAccessKey: 'x' }, endpoint: 'http://e' },
        sasl: { passwordEnv: 'KAFKA_PW', password: 'p' },
      }),
    ).toEqual({ kinesis: { credentials: '***', endpoint: 'http://e' }, sasl: { passwordEnv: 'KAFKA_PW', password: '***' } });
  });
});

describe('tune HTML report', () => {
  it('has the terminal columns, the metadata and round log ticks', () => {
    const output: TuneOutput = {
      kind: 'tune',
      broker: 'memory',
      version: '0.1.0',
      commit: 'abc1234',
      machine: benchOutputFixture().machine,
      startedAt: '2026-11-26T10:00:00.000Z',
      finishedAt: '2026-11-26T10:13:00.000Z',
      options: {
        broker: 'memory',
        rate: 5000,
        sloP99Ms: 100,
        queueSizes: [100, 1000],
        poolSizes: [1, 4],
        workload: { durationS: 60, warmupS: 5, messageSize: 1024, keys: 100, partitions: 4, work: 'none', drainTimeoutS: 60 },
      },
      rate: 5000,
      sloP99Ms: 100,
      work: 'none',
      points: [
        { queueSize: 100, poolSize: 1, throughput: 4990, p99Ms: 3.21, peakRssMB: 90, lost: 0, meetsSlo: true, frontier: true },
        { queueSize: 1000, poolSize: 1, throughput: 4990, p99Ms: 45.6, peakRssMB: 95, lost: 0, meetsSlo: true, frontier: false },
      ],
      snippet: 'queue:\n  maxEvents: 100\n',
    };
    output.recommended = output.points[0];
    const html = renderTuneReport(output);
    expect([...html.matchAll(/<th>([^<]*)<\/th>/g)].map((m) => m[1])).toEqual([
      'queue',
      'pool',
      'throughput/s',
      'p99 ms',
      'peak RSS MB',
      'lost',
      'SLO',
      'Pareto',
    ]);
    expect(html).toContain('<dd data-key="commit">abc1234</dd>');
    expect(html).toContain('<td>3.21</td>');
    const yTicks = [...html.matchAll(/class="tick-y" data-value="([^"]+)"/g)].map((m) => Number(m[1]));
    expect(yTicks).toEqual([1, 2, 5, 10, 20, 50, 100]);
  });
});

describe('a run whose drain was cut off by the timeout', () => {
  it('marks its lost count as late, not lost, in the table and the report, and only then', () => {
    const output = benchOutputFixture();
    const [first] = output.runs;
    const cut = { ...first!, delivery: { ...first!.delivery, lost: 1234 }, drain: { ended: 'timeout' as const, seconds: 3 } };
    const quiet = { ...cut, broker: 'kafka (kafkajs)', drain: { ended: 'quiet' as const, seconds: 2 } };
    expect(benchTable([cut])).toContain('1,234*');
    expect(benchTable([quiet])).not.toContain('1,234*');
    expect(cutOffNote([quiet])).toBeUndefined();
    const note = cutOffNote([cut, quiet]);
    expect(note).toMatch(/ended while events were still arriving \(memory 1,234\): they are late, not known to be lost/);
    expect(renderBenchReport({ ...output, runs: [cut] })).toContain('they are late, not known to be lost');
  });
});
