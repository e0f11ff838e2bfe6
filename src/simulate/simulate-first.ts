// `sluice tune --simulate-first`: simulate tune's grid first (seconds) and measure only the
// promising configurations: those the model says meet the SLO with zero loss, and its Pareto
// frontier. The model has no CPU time yet and underestimates latency under load (README.md), so
// "meets the SLO" in the model is a superset of what will measure so: the real trials decide.
import type { SluiceConfig } from '../config/schema.ts';
import { parseWork } from '../bench/rate.ts';
import { parseModelParams } from './model-params.ts';
import { parseServiceTime } from './service-time.ts';
import { sweep, type SweepOutput } from './sweep.ts';
import { parseWorkload } from './workload.ts';

export interface SimulateFirstInput {
  config: SluiceConfig;
  rate: number;
  sloP99Ms: number;
  queueSizes: number[];
  poolSizes: number[];
  workload: { durationS: number; warmupS: number; messageSize: number; keys: number; partitions: number; work: string };
}

/** The bench's `--work` as a service time: a cpu:<ms> busy loop is taken as its duration (the model has no CPU). */
export function serviceOfWork(work: string): string {
  const spec = parseWork(work);
  if (spec.kind === 'none') return 'none';
  return spec.kind === 'exp' ? `exp:${spec.ms}ms` : `fixed:${spec.ms}ms`;
}

/** The grid simulated, and the `queue x pool` pairs worth a real trial. */
export function promisingPairs(input: SimulateFirstInput): { pairs: Set<string>; sweep: SweepOutput } {
  const { config, workload } = input;
  const output = sweep(
    {
      config,
      workload: parseWorkload(`constant:${input.rate}/s`),
      service: parseServiceTime(serviceOfWork(workload.work)),
      failureRate: 0,
      keys: workload.keys,
      keySkew: 'uniform',
      messageSize: workload.messageSize,
      durationS: workload.warmupS + workload.durationS,
      warmupS: workload.warmupS,
      drainS: 60,
      seed: 1,
      model: parseModelParams(config.broker.type, config.broker.type === 'memory' ? [] : [`partitions=${workload.partitions}`]),
    },
    input.queueSizes,
    input.poolSizes,
    input.sloP99Ms,
  );
  const pairs = new Set(output.points.filter((p) => p.meetsSlo || p.frontier).map((p) => pairKey(p.queueSize, p.poolSize)));
  return { pairs, sweep: output };
}

export const pairKey = (queueSize: number, poolSize: number) => `${queueSize}x${poolSize}`;
