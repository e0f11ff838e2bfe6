// The memory broker's delivery. Mirrors adapters/memory/memory-source.ts MemorySource.run:
// round after round over the partitions, each partition's readable records in batches of at most
// sink.maxBatch (src/core/pipeline.ts maxBatchFor), every delivery awaited (a full queue with the
// block policy stops the loop: that is the pause); a round that delivered nothing waits for the
// next append. Reading is in-process: no simulated time. Nacked events come back through the
// engine's redelivery (MemorySource.nacked: after nackDelayMs).
// An arrival while the loop is busy (a GC pause) is appended when it is free (broker-log.ts
// appendOnLoop): the publisher's append runs on the consumer's loop.
// Simplified: the partition's maxBacklog (a publisher waits past it) is not modelled: the
// producer's offered rate is taken as the append rate; the backlog figure shows when it would bite.
import type { DeliveryModel, Engine } from './engine.ts';

export class MemoryDelivery implements DeliveryModel {
  nextAt = 0;
  private partition = 0;
  private delivered = false;

  constructor(private readonly engine: Engine) {}

  act(t: number): void {
    this.loop(t);
  }

  accepted(t: number): void {
    this.loop(t);
  }

  private loop(t: number): void {
    const engine = this.engine;
    const broker = engine.broker;
    const partitions = broker.partitions.length;
    broker.appendUntil(t);
    for (;;) {
      // A second round at the same instant can only find records a full batch left behind.
      let leftover = false;
      while (this.partition < partitions) {
        const p = this.partition++;
        const readable = broker.readable(p, t);
        if (readable === 0) continue;
        const count = Math.min(readable, engine.maxBatch);
        if (readable > count) leftover = true;
        this.delivered = true;
        if (!engine.deliver(engine.read(p, count), 0, t)) {
          this.nextAt = Number.POSITIVE_INFINITY;
          return;
        }
      }
      this.partition = 0;
      const again = this.delivered && (leftover || broker.upcoming <= t);
      this.delivered = false;
      if (!again) break;
      broker.appendUntil(t);
    }
    // Nothing readable now: wait for the next append (the memory broker has no write limit), or
    // for the ones that arrived while the loop was busy.
    this.nextAt = broker.lastAppend > t ? Math.min(broker.upcoming, broker.lastAppend) : broker.upcoming;
  }
}
