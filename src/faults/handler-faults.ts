import type { HandlerWrapper } from '../handler/handler.ts';
import { sleep } from '../util/sleep.ts';
import { type FaultState, InjectedFault } from './fault-state.ts';

/**
 * The handler faults of `state` (stall, latency, error rate, in that order), applied to each try.
 * Innermost of the wrappers: the retry and timeout wrappers treat an injected failure or delay
 * exactly as one of the user's handler. With no fault on, a try costs one property read.
 * `signal` (the pipeline's shutdown) ends stalls and delays so that a drill never holds a stop.
 */
export function withHandlerFaults(state: FaultState, signal?: AbortSignal, random: () => number = Math.random): HandlerWrapper {
  return (next) => (event, context) => {
    const faults = state.faults;
    if (!faults.handlerStall && faults.handlerLatencyMs === 0 && faults.handlerErrorRate === 0) return next(event, context);
    return (async () => {
      await state.whileStalled(signal);
      const { handlerLatencyMs, handlerErrorRate } = state.faults;
      if (handlerLatencyMs > 0) await sleep(handlerLatencyMs, signal);
      if (handlerErrorRate > 0 && random() < handlerErrorRate) throw new InjectedFault();
      return next(event, context);
    })();
  };
}
