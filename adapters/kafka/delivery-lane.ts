import type { SourceEvent } from '../../src/broker/contract.ts';
import type { KafkaRecord } from './kafka-event.ts';

/** How KafkaSourceCore.deliver runs one partition's records through the lane. */
export interface DeliverOptions {
  /** Asked when a part's turn in the lane has come: false drops it and the rest. */
  wanted?: () => boolean;
  /** Runs after each delivered part with its last record. */
  afterPart?: (last: KafkaRecord) => void;
  /** Wraps each wait for the sink (kafkajs heartbeats meanwhile). */
  waitFor?: <T>(work: Promise<T>) => Promise<T>;
}

/**
 * One lane into the sink. kafkajs may run several partition batches at once
 * (partitionsConsumedConcurrently) and nacked events come back from timers, but the contract
 * allows one pending `deliver` at a time: every delivery takes its turn here.
 *
 * The events are built only once the turn has come (`build`), so a batch that is no longer
 * wanted by then (a rebalance revoked its partition, the source stopped) is never tracked.
 */
export class DeliveryLane {
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly deliver: (events: SourceEvent[]) => Promise<void>) {}

  /** Waits for the turn, builds and delivers. Resolves to whether something was delivered. */
  run(build: () => SourceEvent[] | undefined): Promise<boolean> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    return previous.then(async () => {
      try {
        const events = build();
        if (!events || events.length === 0) return false;
        await this.deliver(events);
        return true;
      } finally {
        release();
      }
    });
  }

  /** Resolves once every delivery queued so far has finished. */
  drained(): Promise<void> {
    return this.tail;
  }
}
