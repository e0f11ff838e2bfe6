import type { EventSink, Source, SourceEvent } from '../broker/contract.ts';
import type { FaultState } from './fault-state.ts';

/**
 * Wraps a source so that, while `faults.commitDelayMs` is set, each ack reaches the source that
 * long after the event finished: commits, checkpoints and acks trail the work as they do against
 * a slow broker. Acks stay acks (nothing is acked before it finished); an ack still delayed when
 * the source closes is dropped by the source's own rules, so the event is delivered again.
 * Only installed when fault injection is enabled: otherwise events pass through untouched.
 */
export function withSlowCommits(source: Source, state: FaultState): Source {
  const delayAcks = (event: SourceEvent): void => {
    const ack = event.ack.bind(event);
    Object.defineProperty(event, 'ack', {
      configurable: true,
      value: () => {
        const delay = state.faults.commitDelayMs;
        if (delay > 0) setTimeout(ack, delay);
        else ack();
      },
    });
  };
  return {
    start(sink: EventSink) {
      const wrapped: EventSink = {
        deliver(events) {
          for (const event of events) delayAcks(event);
          return sink.deliver(events);
        },
        get maxBatch() {
          return sink.maxBatch;
        },
        get capacity() {
          return sink.capacity;
        },
        discard: (predicate) => sink.discard(predicate),
        fatal: (error) => sink.fatal(error),
      };
      return source.start(wrapped);
    },
    stop: () => source.stop(),
    close: () => source.close(),
    health: () => source.health(),
    lag: () => source.lag(),
    get commits() {
      return source.commits;
    },
  };
}
