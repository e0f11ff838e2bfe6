import { validateConfig } from '../../../src/config/validate.ts';
import { parseModelParams } from '../../../src/simulate/model-params.ts';
import { type SimulationResult, summarize } from '../../../src/simulate/results.ts';
import { runScenario, type Scenario } from '../../../src/simulate/scenario.ts';
import { parseServiceTime } from '../../../src/simulate/service-time.ts';
import { parseWorkload } from '../../../src/simulate/workload.ts';
import type { Engine } from '../../../src/simulate/engine.ts';

export interface Options {
  config?: Record<string, unknown>;
  workload: string;
  service: string;
  duration: number;
  drain?: number;
  warmup?: number;
  keys?: number;
  keySkew?: string;
  messageSize?: number;
  failureRate?: number;
  seed?: number;
  model?: string[];
}

export async function scenario(options: Options): Promise<Scenario> {
  const config = await validateConfig(options.config ?? {});
  return {
    config,
    workload: parseWorkload(options.workload),
    service: parseServiceTime(options.service),
    failureRate: options.failureRate ?? 0,
    keys: options.keys ?? 0,
    keySkew: options.keySkew ?? 'uniform',
    messageSize: options.messageSize ?? 100,
    durationS: options.duration,
    warmupS: options.warmup ?? 0,
    drainS: options.drain ?? 0,
    seed: options.seed ?? 7,
    model: parseModelParams(config.broker.type, options.model ?? []),
  };
}

export async function simulate(options: Options): Promise<{ result: SimulationResult; engine: Engine }> {
  const s = await scenario(options);
  const { engine, wallMs } = runScenario(s);
  return { result: summarize(s, engine, wallMs), engine };
}

/** Erlang C: the probability that an arrival waits in an M/M/c queue with offered load a = λ/μ. */
export function erlangC(c: number, a: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < c; k++) {
    term *= a / k;
    sum += term;
  }
  const last = (term * a) / c / (1 - a / c);
  return last / (sum + last);
}
