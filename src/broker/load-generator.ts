import type { OutgoingEvent, Publisher } from './contract.ts';

export interface LoadOptions {
  destination: string;
  /** Events per second; 0 publishes as fast as the publisher accepts. */
  rate: number;
  payloadSize: number;
  /** Distinct keys; 0 for no key. */
  keys: number;
  /** Stop after this many events; 0 for never. */
  total: number;
  /** Events per publish call. */
  batchSize?: number;
}

/**
 * Synthetic load through any broker's Publisher: open loop at `rate` (it publishes what the
 * clock says is due, so a slow tick is caught up, not forgotten), paused whenever the publisher
 * is (awaits each publish). Payloads are filler bytes of the given size, shared between events.
 */
export class LoadGenerator {
  published = 0;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly payload: Buffer;
  private readonly keyNames: string[];

  constructor(
    private readonly publisher: Publisher,
    private readonly options: LoadOptions,
  ) {
    this.payload = Buffer.alloc(options.payloadSize, 'sluice-synthetic-event;');
    this.keyNames = Array.from({ length: options.keys }, (_, i) => `key-${i}`);
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Resolves when `total` events were published (never, if total is 0, until stop()). */
  done(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async run(): Promise<void> {
    const { rate, total } = this.options;
    const batchSize = this.options.batchSize ?? 1000;
    const started = performance.now();
    while (!this.stopped && (total === 0 || this.published < total)) {
      let due = rate === 0 ? batchSize : Math.floor(((performance.now() - started) / 1000) * rate) - this.published;
      if (total > 0) due = Math.min(due, total - this.published);
      if (due <= 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.min(50, 1000 / rate))));
        continue;
      }
      const count = Math.min(due, batchSize);
      const batch = new Array<OutgoingEvent>(count);
      for (let i = 0; i < count; i++) {
        const n = this.published + i;
        batch[i] = { key: this.keyNames.length ? this.keyNames[n % this.keyNames.length] : undefined, payload: this.payload };
      }
      await this.publisher.publish(this.options.destination, batch);
      this.published += count;
      // Let the consumer side run between batches even when the publisher never waits.
      if (rate === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
