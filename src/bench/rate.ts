import { Random } from '../simulate/random.ts';
import { Arrivals, type Workload as Shape } from '../simulate/workload.ts';

/** Which share of the sequence space one producer sends: events i ≡ part (mod parts). */
export interface ProducerPart {
  part: number;
  parts: number;
}

/**
 * Open-loop pacing along a `--workload` shape (src/simulate/workload.ts, the same parser and
 * arrival generator as `sluice simulate`, so one spec means the same arrivals in both): event i
 * is due at start + the time the rate's integral reaches i (or after seeded exponential gaps for
 * Poisson). The shape's t = 0 is the start of production, warm-up included, as simulate's. The
 * producer sends what is due (in batches), stamping each event with its own due time, whatever
 * time the send actually happens.
 *
 * Split between producers, every one generates the whole sequence (the same seed gives the same
 * Poisson gaps) and takes only its own events, i ≡ part (mod parts): together they send each
 * event once, at its time.
 */
export class OpenLoopSchedule {
  private readonly arrivals: Arrivals;
  private readonly part: number;
  private readonly parts: number;
  /** Global index of the last arrival generated. */
  private index = -1;
  /** The next own event: its global sequence number and due time (Infinity: none left). */
  private nextSeq = -1;
  private nextMs = 0;
  private sent = 0;

  constructor(
    shape: Shape,
    readonly startMs: number,
    /** Seconds of production (warm-up included): arrivals at or after it are not sent. */
    horizonS: number,
    options: { seed?: number } & Partial<ProducerPart> = {},
  ) {
    this.arrivals = new Arrivals(shape, new Random(options.seed ?? 1), horizonS);
    this.part = options.part ?? 0;
    this.parts = options.parts ?? 1;
    this.advance();
  }

  /** Own events due by `nowMs` and not yet taken, at most `max`: global sequence numbers first, first + stride, … */
  take(nowMs: number, max: number): { first: number; count: number; stride: number; intendedMs: number[] } {
    const first = this.nextSeq;
    const intendedMs: number[] = [];
    while (intendedMs.length < max && this.nextMs <= nowMs && this.nextMs !== Number.POSITIVE_INFINITY) {
      intendedMs.push(this.nextMs);
      this.sent++;
      this.advance();
    }
    return { first, count: intendedMs.length, stride: this.parts, intendedMs };
  }

  /** Own events handed out so far. */
  get taken(): number {
    return this.sent;
  }

  get finished(): boolean {
    return this.nextMs === Number.POSITIVE_INFINITY;
  }

  /** When the next own event is due (for sleeping until then); Infinity when none is left. */
  nextDueMs(): number {
    return this.nextMs;
  }

  private advance(): void {
    for (;;) {
      const t = this.arrivals.next();
      this.index++;
      if (t === Number.POSITIVE_INFINITY) {
        this.nextMs = Number.POSITIVE_INFINITY;
        return;
      }
      if (this.index % this.parts === this.part) {
        this.nextSeq = this.index;
        // To the microsecond: 3 × (1/1000 s) is not 3 ms in floating point, and an event due
        // at a whole millisecond must be due at that millisecond.
        this.nextMs = this.startMs + Math.round(t * 1e6) / 1000;
        return;
      }
    }
  }
}

/** The highest rate of a shape before the horizon (to size batches and the number of producers). */
export function peakRate(shape: Shape, horizonS: number): number {
  let peak = 0;
  for (let i = 0; i < shape.starts.length && shape.starts[i]! < horizonS; i++) peak = Math.max(peak, shape.rates[i]!);
  return peak;
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
