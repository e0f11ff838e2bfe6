import type { Logger } from 'pino';

/**
 * Fault injection (issue #13): faults a user switches on in staging, and the drill in tests, to
 * see that alerts fire and the pipeline recovers. Off unless `faults.enabled`; while any fault is
 * on, every change is logged at warn level and `sluice_faults_active` says which.
 *
 * The in-process faults act where a real failure would: inside the handler wrappers (so a failing
 * or slow handler is retried and timed out like a real one) and between the handler's success
 * and the ack to the broker (slow commits). Network faults between Sluice and a broker are not
 * in-process: the local stack's toxiproxy injects them (deploy/local).
 */
export interface Faults {
  /** Share of handler tries (0–1) that fail with a retriable {@link InjectedFault}. */
  handlerErrorRate: number;
  /** Added to every handler try, ms. */
  handlerLatencyMs: number;
  /** Handler tries wait until the stall is lifted (or the handler timeout or shutdown ends them). */
  handlerStall: boolean;
  /** Each ack reaches the source this long after the event finished, ms (slow commits / acks). */
  commitDelayMs: number;
}

export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  handlerErrorRate: 0,
  handlerLatencyMs: 0,
  handlerStall: false,
  commitDelayMs: 0,
});

/** The error an injected handler failure throws: retriable, as most real handler failures are. */
export class InjectedFault extends Error {
  readonly retriable = true;
  constructor() {
    super('injected fault: handler error (faults.handlerErrorRate)');
    this.name = 'InjectedFault';
  }
}

/** Checks a partial {@link Faults} (from config, the CLI or `PUT /faults`); returns what is wrong. */
export function faultErrors(faults: Partial<Record<keyof Faults, unknown>>): string[] {
  const errors: string[] = [];
  for (const [key, value] of Object.entries(faults)) {
    if (!(key in NO_FAULTS)) errors.push(`${key}: unknown fault (known: ${Object.keys(NO_FAULTS).join(', ')})`);
    else if (key === 'handlerStall') {
      if (typeof value !== 'boolean') errors.push(`${key}: expected true or false, got ${JSON.stringify(value)}`);
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      errors.push(`${key}: expected a number ≥ 0, got ${JSON.stringify(value)}`);
    } else if (key === 'handlerErrorRate' && value > 1) errors.push(`${key}: expected a share from 0 to 1, got ${value}`);
  }
  return errors;
}

/** The faults in force, changed at run time through {@link set} and {@link clear}. */
export class FaultState {
  private current: Faults = { ...NO_FAULTS };
  private readonly stallWaiters = new Set<() => void>();

  constructor(
    private readonly logger: Logger,
    initial: Partial<Faults> = {},
  ) {
    if (Object.keys(initial).length > 0) this.set(initial);
  }

  get faults(): Readonly<Faults> {
    return this.current;
  }

  /** Names of the faults that are on. */
  active(): (keyof Faults)[] {
    return (Object.keys(this.current) as (keyof Faults)[]).filter((key) => this.current[key] !== NO_FAULTS[key]);
  }

  /** Changes the named faults; throws on a bad value (nothing changes then). */
  set(change: Partial<Faults>): void {
    const errors = faultErrors(change);
    if (errors.length > 0) throw new Error(`bad fault: ${errors.join('; ')}`);
    this.current = { ...this.current, ...change };
    if (!this.current.handlerStall) this.release();
    const active = this.active();
    if (active.length > 0) this.logger.warn({ faults: this.current }, `FAULT INJECTION ON: ${active.join(', ')}`);
    else this.logger.warn('fault injection: all faults off');
  }

  clear(): void {
    this.set({ ...NO_FAULTS });
  }

  /** Resolves when the stall is lifted, or at once if there is none; `signal` ends the wait too. */
  whileStalled(signal?: AbortSignal): Promise<void> {
    if (!this.current.handlerStall || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.stallWaiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.stallWaiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private release(): void {
    for (const done of [...this.stallWaiters]) done();
  }
}
