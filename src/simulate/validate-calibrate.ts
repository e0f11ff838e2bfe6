// The model's event-loop cost per event (`--model loopUsPerEvent=`), measured from the real core
// before the scenarios: one short `sluice bench` run per broker with a pool far larger than the
// load needs (so queueing does not enter) and a 1 ms timer handler (so a timer's own loop cost is
// in), reading the consumer's event-loop utilization while production ran. Busy share ÷ events
// per second = loop seconds per event: Sluice's delivery, queue, dispatch and ack, the client
// library's share (kafkajs decoding, fetch bookkeeping) and the bench's recording, everything the
// one loop does per event. It is measured on the machine that runs the scenarios, so a loaded
// machine (the process descheduled while busy) shows a larger figure, as its scenarios will.
// The same run's GC pauses (PerformanceObserver in the bench consumer) give the model's GC input:
// pauses per event and the pauses themselves; their time is taken out of the per-event figure.
import { runBroker } from '../bench/run-broker.ts';

export interface LoopCalibration {
  broker: string;
  rate: number;
  loopBusyShare: number;
  /** Loop time per event outside GC pauses. */
  usPerEvent: number;
  cpuPercent: number;
  /** GC pauses per event, and the pauses (ms). */
  gcPerEvent: number;
  gcPausesMs: number[];
}

/** The calibration run's rate per broker: about the scenarios' own, well under what the machine offers. */
const RATES: Record<string, number> = { memory: 2000, kafka: 1000 };

export async function calibrateLoop(broker: string, seconds: { warmupS: number; durationS: number }): Promise<LoopCalibration> {
  const rate = RATES[broker] ?? 1000;
  const run = await runBroker(broker, {
    rate,
    spec: `constant:${rate}/s`,
    seed: 1,
    durationS: seconds.durationS,
    warmupS: seconds.warmupS,
    messageSize: 1024,
    keys: 100,
    partitions: 4,
    work: 'fixed:1',
    queueSize: 10_000,
    poolSize: 256,
    drainTimeoutS: 30,
  });
  if (run.error) throw new Error(`loop calibration on ${broker}: ${run.error}`);
  const share = run.loopBusyShare ?? 0;
  // The share is over warm-up and measurement alike, as the events are; GC pauses count as
  // busy loop time, and the model has them apart, so they are taken out of the per-event cost.
  const wall = seconds.warmupS + seconds.durationS;
  const pauses = run.gcPausesMs ?? [];
  const gcShare = pauses.reduce((a, b) => a + b, 0) / 1000 / wall;
  const perSecond = run.sent / wall;
  return {
    broker,
    rate,
    loopBusyShare: share,
    usPerEvent: (Math.max(0, share - gcShare) / perSecond) * 1e6,
    cpuPercent: run.cpuPercent,
    gcPerEvent: pauses.length / Math.max(1, run.sent),
    gcPausesMs: pauses,
  };
}
