import type { RunDurations, RunProgress } from './progress.ts';
import { runBroker, type BrokerRun, type Workload } from './run-broker.ts';

export interface Trial {
  rate: number;
  sustained: boolean;
  reason: string;
}

/**
 * Whether a run sustained its rate: nothing lost, delivered throughput within 5 % of the target,
 * the backlog at the end of production within half a second of traffic (it did not grow), and
 * the producer kept to its schedule (else the producer, not the gateway, was the limit).
 */
export function judge(run: BrokerRun): Trial {
  const rate = run.workload.rate;
  const reasons: string[] = [];
  if (run.delivery.lost > 0) reasons.push(`lost ${run.delivery.lost}`);
  if (run.throughput < rate * 0.95) reasons.push(`throughput ${Math.round(run.throughput)} < 95% of ${rate}`);
  const produced = run.series.slice(0, -1); // the last point is after the drain
  const endBacklog = produced.length ? produced[produced.length - 1]!.backlog : 0;
  if (endBacklog > Math.max(1000, rate * 0.5)) reasons.push(`backlog ${endBacklog} at the end of production`);
  if (run.producerMaxBehindMs > 1000) reasons.push(`producer ${run.producerMaxBehindMs} ms behind schedule`);
  return { rate, sustained: reasons.length === 0, reason: reasons.join('; ') || 'sustained' };
}

/**
 * `--rate max`: the highest rate sustained without a growing backlog. Doubles from 1,000/s until
 * a trial fails, then bisects between the last good and the first bad rate (4 steps).
 */
export async function findMaxRate(
  broker: string,
  workload: Omit<Workload, 'rate'>,
  profile: string | undefined,
  hooks: {
    /** A trial begins, with its (shorter) durations. */
    onTrialStart?: (trial: number, rate: number, durations: RunDurations) => void;
    onProgress?: (progress: RunProgress) => void;
    /** A trial's verdict, one line. */
    onTrial?: (line: string) => void;
  },
  set: readonly string[] = [],
): Promise<{ rate: number; trials: Trial[] }> {
  const trialWorkload = { ...workload, warmupS: Math.min(workload.warmupS, 2), durationS: Math.min(workload.durationS, 8) };
  const trials: Trial[] = [];
  const attempt = async (rate: number): Promise<boolean> => {
    let trial: Trial;
    hooks.onTrialStart?.(trials.length + 1, rate, trialWorkload);
    try {
      trial = judge(await runBroker(broker, { ...trialWorkload, rate }, { profile, set, onProgress: hooks.onProgress }));
    } catch (error) {
      trial = { rate, sustained: false, reason: (error as Error).message };
    }
    trials.push(trial);
    hooks.onTrial?.(`${broker}: ${rate}/s ${trial.sustained ? 'sustained' : `not sustained (${trial.reason})`}`);
    return trial.sustained;
  };
  let good = 0;
  let bad = 0;
  for (let rate = 1000; rate <= 4_000_000; rate *= 2) {
    if (await attempt(rate)) good = rate;
    else {
      bad = rate;
      break;
    }
  }
  if (bad === 0) return { rate: good, trials };
  for (let step = 0; step < 4 && good > 0; step++) {
    const middle = Math.round((good + bad) / 2);
    if (await attempt(middle)) good = middle;
    else bad = middle;
  }
  return { rate: good, trials };
}
