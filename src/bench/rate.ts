/**
 * Open-loop pacing: event i is due at start + i / rate. The producer sends what is due (in
 * batches), stamping each event with its own due time, whatever time the send actually happens.
 */
export class OpenLoopSchedule {
  private sent = 0;

  constructor(
    readonly rate: number,
    readonly startMs: number,
    readonly total: number,
  ) {}

  /** Sequence numbers due by `nowMs` and not yet taken, at most `max`. */
  take(nowMs: number, max: number): { first: number; count: number } {
    const dueCount = Math.min(this.total, Math.floor(((nowMs - this.startMs) / 1000) * this.rate) + 1);
    const count = Math.max(0, Math.min(max, dueCount - this.sent));
    const first = this.sent;
    this.sent += count;
    return { first, count };
  }

  /** The intended send time of event `seq`. */
  intendedMs(seq: number): number {
    return this.startMs + (seq * 1000) / this.rate;
  }

  get taken(): number {
    return this.sent;
  }

  get finished(): boolean {
    return this.sent >= this.total;
  }

  /** When the next event is due (for sleeping until then). */
  nextDueMs(): number {
    return this.intendedMs(this.sent);
  }
}

/** Simulated handler work: `fixed:2` (2 ms wait), `exp:2` (exponential, mean 2 ms), `cpu:1` (1 ms busy loop), `none`. */
export interface WorkSpec {
  kind: 'none' | 'fixed' | 'exp' | 'cpu';
  ms: number;
}

export function parseWork(text: string): WorkSpec {
  if (text === 'none' || text === '0') return { kind: 'none', ms: 0 };
  const match = /^(fixed|exp|cpu):(\d+(?:\.\d+)?)(ms)?$/.exec(text);
  if (!match) throw new Error(`--work ${text}: expected none, fixed:<ms>, exp:<ms> or cpu:<ms>`);
  return { kind: match[1] as WorkSpec['kind'], ms: Number(match[2]) };
}

export function workFunction(spec: WorkSpec, random: () => number = Math.random): () => void | Promise<void> {
  switch (spec.kind) {
    case 'none':
      return () => undefined;
    case 'fixed':
      return () => new Promise((resolve) => setTimeout(resolve, spec.ms));
    case 'exp':
      return () => new Promise((resolve) => setTimeout(resolve, -Math.log(1 - random()) * spec.ms));
    case 'cpu':
      return () => {
        const end = performance.now() + spec.ms;
        while (performance.now() < end) {
          /* busy: a CPU-bound handler */
        }
      };
  }
}
