/**
 * Sent and delivered counts for the same instant. Why `bench` once printed more delivered than
 * sent: the two counts come from different processes (the producer's, the consumer's), each
 * reporting every 250 ms, and the orchestrator paired whatever arrived last: a delivered count
 * read after the sent count it was shown with. And the sent count was the *confirmed* one: a
 * consumer can record an event before the broker's acknowledgement reaches the producer.
 *
 * Here both counts carry the time they were read (`nowMs()`: one clock for the machine's
 * processes) and `sent` is what the producer had handed to the broker. A sample pairs the
 * producer's latest count with the newest delivered count read *no later*: nothing can be
 * delivered before it was handed to the broker, so delivered ≤ sent, always.
 */
export interface ProducerCounts {
  /** When these counts were read, ms (nowMs()). */
  at: number;
  /** Events handed to the broker (publish called). */
  published: number;
  /** Events the broker acknowledged. */
  confirmed: number;
}

export interface Sample {
  sent: number;
  confirmed: number;
  delivered: number;
}

export class PairedCounts {
  private producer: ProducerCounts = { at: -Infinity, published: 0, confirmed: 0 };
  /** Delivered counts by read time, oldest first; pruned to those a later pairing can use. */
  private delivered: { at: number; unique: number }[] = [{ at: -Infinity, unique: 0 }];

  onProducer(counts: ProducerCounts): void {
    if (counts.at < this.producer.at) return; // an older message overtaken in transit
    this.producer = counts;
    this.prune();
  }

  onDelivered(at: number, unique: number): void {
    const last = this.delivered[this.delivered.length - 1]!;
    if (at < last.at) return;
    this.delivered.push({ at, unique });
    this.prune();
  }

  /** Production is over: these final counts hold for every later instant (the drain). */
  producerDone(published: number, confirmed: number): void {
    this.producer = { at: Infinity, published, confirmed };
    this.prune();
  }

  sample(): Sample {
    return { sent: this.producer.published, confirmed: this.producer.confirmed, delivered: this.pairedDelivered().unique };
  }

  private pairedDelivered() {
    let paired = this.delivered[0]!;
    for (const entry of this.delivered) if (entry.at <= this.producer.at) paired = entry;
    return paired;
  }

  /** Keeps the entry paired now and the newer ones (a newer producer count may pair with them). */
  private prune(): void {
    const index = this.delivered.indexOf(this.pairedDelivered());
    if (index > 0) this.delivered = this.delivered.slice(index);
  }
}
