// How long a worker is held by one event, and how the event ends. Mirrors
// src/handler/retry.ts (withRetry: a retriable failure is tried again after backoffMs(policy,
// attempt), up to maxAttempts tries; the worker awaits the whole retried handler, backoffs
// included), src/handler/timeout.ts (a try longer than handler.timeoutMs fails at the timeout)
// and src/core/event-processor.ts (after the last failed try: ack once the dead-letter write
// succeeded, or nack without a dead-letter destination so the broker delivers it again).
// Simplified: every failure is retriable; a dead-letter write takes no time.
import { backoffMs, type RetryPolicy } from '../handler/retry.ts';
import type { Random } from './random.ts';
import type { ServiceTime } from './service-time.ts';

export enum Outcome {
  Success = 0,
  /** Succeeded after at least one retry. */
  Retried = 1,
  DeadLettered = 2,
  /** Failed every try with no dead-letter destination: nacked, delivered again later. */
  Nacked = 3,
}

export interface HandlerModel {
  service: ServiceTime;
  /** Share of tries that fail (retriable), 0–1 (faults.handlerErrorRate, `--failure-rate`). */
  failureRate: number;
  retry: RetryPolicy;
  /** handler.timeoutMs in seconds; 0 for none. */
  timeout: number;
  deadLetter: boolean;
}

export class HandlerRun {
  /** Set by {@link busyTime}: how the event it was called for ended. */
  outcome: Outcome = Outcome.Success;
  private readonly uniform: () => number;

  constructor(
    private readonly model: HandlerModel,
    private readonly random: Random,
  ) {
    this.uniform = () => random.next();
  }

  /**
   * Seconds the worker is busy with one event, every try and backoff included; sets {@link outcome}.
   * `chained`: the handler starts in the completion of the worker's last event (see ServiceTime.sampleChained).
   */
  busyTime(chained = false): number {
    const { service, failureRate, timeout, retry } = this.model;
    const random = this.random;
    let busy = 0;
    for (let attempt = 1; ; attempt++) {
      // A retry starts after a backoff timer: chained, like a worker's next event.
      let s = (chained || attempt > 1) && service.sampleChained ? service.sampleChained(random) : service.sample(random);
      let failed = false;
      if (timeout > 0 && s > timeout) {
        s = timeout;
        failed = true;
      } else if (failureRate > 0) failed = random.next() < failureRate;
      busy += s;
      if (!failed) {
        this.outcome = attempt > 1 ? Outcome.Retried : Outcome.Success;
        return busy;
      }
      if (attempt >= retry.maxAttempts) {
        this.outcome = this.model.deadLetter ? Outcome.DeadLettered : Outcome.Nacked;
        return busy;
      }
      busy += backoffMs(retry, attempt, this.uniform) / 1000;
    }
  }
}
