import type { Subscription } from '@google-cloud/pubsub';
import type { Logger } from 'pino';

/** What one modAck round trip may count for in the client's lease schedule, in seconds. */
export const MAX_COUNTED_MODACK_SECONDS = 3;

/**
 * Keeps a broker outage from wrecking the client's lease extensions afterwards.
 *
 * @google-cloud/pubsub (6.3.0) extends held messages every (ackDeadline × 0.9 − p99 of every
 * modAck round trip so far) × jitter. During an outage modAcks hang until the connection is back
 * (15 s and more) and the latency histogram keeps them for good: from then on the p99 exceeds
 * 0.9 × ackDeadline (10 s by default), the timer fires at once, every held message is modAcked
 * in a tight loop, the event loop stalls, acks go out late, deadlines expire, and everything the
 * client holds is delivered again, and again (measured through a 15 s cut: 239,404 duplicates of
 * 40,000 events, still climbing after 3 minutes). Capping what one round trip counts for
 * (the histogram's own `max` option, which the client leaves unbounded) keeps the schedule
 * positive: a healthy modAck takes milliseconds, so the cap never matters outside an outage.
 *
 * Reaches into the client's private subscriber (the version is pinned in package.json); when the
 * shape is not the expected one it changes nothing and logs a warning. Returns `subscription`.
 */
export function capLeaseLatency(subscription: Subscription, logger: Logger): Subscription {
  const latencies = (subscription as unknown as { _subscriber?: { _latencies?: { options?: { max?: number } } } })._subscriber?._latencies;
  if (latencies?.options && typeof latencies.options.max === 'number') {
    latencies.options.max = Math.min(latencies.options.max, MAX_COUNTED_MODACK_SECONDS);
  } else {
    logger.warn('pubsub: the client library changed shape; its lease latency is not capped (adapters/pubsub/lease-latency.ts)');
  }
  return subscription;
}
