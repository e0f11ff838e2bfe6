import type { Health } from '../broker/contract.ts';
import { SluiceError } from '../errors.ts';

/** The states every source has; an adapter adds its own in between (`joining`, `rebalancing`). */
export type BaseState = 'new' | 'crashed' | 'closed';

export interface LifecycleHooks {
  /** stop(): stop fetching and let deliveries under way finish. Runs once. */
  halt(): Promise<void>;
  /** close(): after halt, the final commit and disconnecting. Runs once. */
  shutdown(): Promise<void>;
}

/**
 * One lifecycle for a source: its state and detail, `stop()` and `close()` memoized (each runs
 * once however often it is called, and close always stops first), and the health every state
 * implies. The adapter keeps only what its states mean to the broker.
 *
 * Two flags that the adapter's hot paths read:
 * - `stopped`: stop() was called; nothing more is delivered.
 * - `closed`: settling is a no-op from here on (the final commit is being written, or start failed).
 */
export class Lifecycle<S extends string = never> {
  state: BaseState | S = 'new';
  detail = '';
  stopped = false;
  closed = false;
  private stopping: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    /** Names the source in errors: "kafka source already closed". */
    private readonly what: string,
    private readonly hooks: LifecycleHooks,
  ) {}

  /** start() begins: throws when it was started before. */
  begin(state: S): void {
    if (this.state !== 'new') throw new SluiceError(`${this.what} already ${this.state}`);
    this.state = state;
  }

  to(state: S, detail = ''): void {
    this.state = state;
    this.detail = detail;
  }

  /** A failure the source does not recover from by itself (or not yet). */
  crashed(detail: string): void {
    this.state = 'crashed';
    this.detail = detail;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      await this.hooks.halt();
    })();
    return this.stopping;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.stop();
      await this.hooks.shutdown();
      this.closed = true;
      this.state = 'closed';
    })();
    return this.closing;
  }

  /**
   * Health: closed and crashed are said the same way by every source (`prefix: detail`);
   * the adapter describes its other states.
   */
  health(prefix: string, describe: (state: Exclude<S, BaseState> | 'new') => Health): Health {
    if (this.state === 'closed') return { connected: false, detail: 'closed' };
    if (this.state === 'crashed') return { connected: false, detail: `${prefix}: ${this.detail}` };
    return describe(this.state as Exclude<S, BaseState> | 'new');
  }
}
