import { isSampled, type TraceParent } from './propagation.ts';

/**
 * Sluice's sampling decision for one event, made once, when the event enters the queue: parent
 * based, as OpenTelemetry's ParentBased(TraceIdRatioBased) sampler. An event that arrived with a
 * `traceparent` follows it (sampled → traced, not sampled → not: the producer already decided
 * for the whole trace); one without is traced with probability `ratio`.
 *
 * It is decided here rather than by the SDK's sampler because asking the SDK means starting a
 * span (ids generated, a non-recording span allocated) for every event, sampled or not; this is
 * one header lookup and one Math.random() for the 99 % that are not traced at 1 %.
 */
export function sampleEvent(parent: TraceParent | undefined, ratio: number, random: () => number = Math.random): boolean {
  if (parent !== undefined) return isSampled(parent);
  return ratio >= 1 || (ratio > 0 && random() < ratio);
}
