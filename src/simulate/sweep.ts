// `sluice simulate --sweep`: the grid of `sluice tune` (src/bench/tune.ts), simulated. Every
// point runs the same scenario with the same seed (common random numbers: the points differ by
// their configuration only), and the grid is marked with tune's own markFrontier / recommend /
// snippetFor, so both print the same shape. Memory is the model's estimate (peak events in
// Sluice's hands × (payload + per-event overhead)) where tune has the measured peak RSS.
import { markFrontier, recommend, snippetFor, type TunePoint } from '../bench/tune.ts';
import { ms, num, table } from '../bench/table.ts';
import { summarize, type SimulationResult } from './results.ts';
import { runScenario, type Scenario } from './scenario.ts';

export interface SweepPoint extends TunePoint {
  /** tune's peakRssMB field holds the model's memory estimate (MB) here. */
  keepsUp: boolean;
  reason: string;
}

export interface SweepOutput {
  kind: 'simulate-sweep';
  broker: string;
  rate: number;
  sloP99Ms: number;
  points: SweepPoint[];
  recommended?: SweepPoint;
  snippet: string;
  results: SimulationResult[];
  wallMs: number;
}

export function sweep(base: Scenario, queueSizes: number[], poolSizes: number[], sloP99Ms: number): SweepOutput {
  const started = performance.now();
  const results: SimulationResult[] = [];
  const points: SweepPoint[] = [];
  for (const queueSize of queueSizes) {
    for (const poolSize of poolSizes) {
      const config = {
        ...base.config,
        queue: { ...base.config.queue, maxEvents: queueSize },
        pool: { ...base.config.pool, size: poolSize },
      };
      const scenario = { ...base, config };
      const { engine, wallMs } = runScenario(scenario);
      const result = summarize(scenario, engine, wallMs);
      // A sweep keeps the figures, not the series of every point (the report draws a few).
      results.push(result);
      const point: SweepPoint = {
        queueSize,
        poolSize,
        throughput: result.throughput,
        p99Ms: result.latencyMs.p99,
        peakRssMB: Math.round(result.memory.peakMB * 10) / 10,
        lost: result.dropped,
        meetsSlo: false,
        frontier: false,
        keepsUp: result.verdict.keepsUp,
        reason: result.verdict.reason,
      };
      point.meetsSlo =
        point.lost === 0 && result.verdict.keepsUp && point.p99Ms <= sloP99Ms && point.throughput >= result.offeredRate * 0.95;
      points.push(point);
    }
  }
  markFrontier(points);
  const recommended = recommend(points) as SweepPoint | undefined;
  const rate = Math.round(results[0]?.offeredRate ?? 0);
  return {
    kind: 'simulate-sweep',
    broker: base.config.broker.type,
    rate,
    sloP99Ms,
    points,
    recommended,
    snippet: snippetFor(recommended, sloP99Ms, rate)
      .replaceAll('sluice tune', 'sluice simulate')
      .replace('(measured:', '(simulated:')
      .replace('peak RSS', 'memory est.'),
    results,
    wallMs: performance.now() - started,
  };
}

/** tune's table, with the model's memory estimate and its verdict. */
export function sweepTable(output: SweepOutput): string {
  return table(
    ['queue', 'pool', 'throughput/s', 'p99 ms', 'memory MB', 'dropped', 'keeps up', 'SLO', 'Pareto'],
    output.points.map((p) => [
      p.queueSize,
      p.poolSize,
      num(p.throughput),
      ms(p.p99Ms),
      p.peakRssMB.toFixed(1),
      p.lost,
      p.keepsUp ? 'yes' : 'no',
      p.meetsSlo ? 'yes' : 'no',
      p === output.recommended ? '◆ recommended' : p.frontier ? '◆' : '',
    ]),
  );
}
