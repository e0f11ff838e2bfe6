/**
 * The source kit: what every adapter's source is built on (see README.md). Adapters import it
 * from here, and nothing from src/core.
 */
export { CommitLoop, type CommitFilter, type CommitLoopOptions } from './commit-loop.ts';
export { DeliveryLane } from './delivery-lane.ts';
export type { KeyOrder } from './key-hold.ts';
export { type BaseState, Lifecycle, type LifecycleHooks } from './lifecycle.ts';
export { Outage, type OutageProblem } from './outage.ts';
export { OffsetTracker, PartitionProgress } from './offset-tracker.ts';
export { Redelivery, type RedeliveryOptions } from './redelivery.ts';
export { BaseEvent, type EventOwner, NO_HEADERS } from './source-event.ts';
export { Backoff, backoffMs } from '../util/backoff.ts';
export { sleep } from '../util/sleep.ts';
export { withTimeout } from '../util/with-timeout.ts';
