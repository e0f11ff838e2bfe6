/**
 * The progress line of `sluice bench` and `sluice tune`: which run (broker n/N, trial n/N), its
 * phase, elapsed time and an estimate of the time left, on stderr so stdout stays the table /
 * JSON. On a terminal it is one line rewritten in place (\r); in a log (CI) a plain line when a
 * run starts and then every `plainEveryMs` (10 s), so a 13-minute sweep does not write a
 * thousand lines. `quiet` writes nothing.
 *
 * The estimate uses only what is known up front: each run lasts at most warm-up + duration +
 * the drain bound (`--drain-timeout`). Setup (creating the destination, starting the processes)
 * is not known and not counted; the drain usually ends long before its bound. So the time left
 * is a rough figure, shown with "~".
 */

/** `setup`: before production starts (destination, consumer, producer lead-in). */
export type Phase = 'setup' | 'warm-up' | 'measure' | 'drain';

/** What a run reports about itself (run-broker.ts), about once a second. */
export interface RunProgress {
  phase: Phase;
  /** Seconds spent in this phase so far. */
  phaseElapsedS: number;
  /** Events handed to the broker so far (never below `delivered` for the same instant). */
  sent: number;
  /** Distinct events the consumer had recorded. */
  delivered: number;
}

/** The durations every run of the plan has, in seconds. */
export interface RunDurations {
  warmupS: number;
  durationS: number;
  drainTimeoutS: number;
}

/** Upper bound of the time a phase has left (setup: the whole run, not yet begun). */
export function runLeftS(d: RunDurations, phase: Phase, phaseElapsedS: number): number {
  const perRun = d.warmupS + d.durationS + d.drainTimeoutS;
  switch (phase) {
    case 'setup':
      return perRun;
    case 'warm-up':
      return Math.max(0, d.warmupS - phaseElapsedS) + d.durationS + d.drainTimeoutS;
    case 'measure':
      return Math.max(0, d.durationS - phaseElapsedS) + d.drainTimeoutS;
    case 'drain':
      return Math.max(0, d.drainTimeoutS - phaseElapsedS);
  }
}

/** Time left in the whole plan: the rest of run `run` (1-based) of `runs`, then the runs after it. */
export function planLeftS(d: RunDurations, run: number, runs: number, phase: Phase, phaseElapsedS: number): number {
  return runLeftS(d, phase, phaseElapsedS) + Math.max(0, runs - run) * (d.warmupS + d.durationS + d.drainTimeoutS);
}

/** 42s, 3m05s, 1h02m. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

/** The phase with how far it is: `warm-up 3/5s`, `measure 12/60s`, `drain 4s (≤60s)`, `setup`. */
export function formatPhase(d: RunDurations, p: RunProgress): string {
  const at = Math.floor(p.phaseElapsedS);
  switch (p.phase) {
    case 'setup':
      return 'setup';
    case 'warm-up':
      return `warm-up ${Math.min(at, d.warmupS)}/${d.warmupS}s`;
    case 'measure':
      return `measure ${Math.min(at, d.durationS)}/${d.durationS}s`;
    case 'drain':
      return `drain ${at}s (≤${d.drainTimeoutS}s)`;
  }
}

export interface ProgressState {
  /** `broker` for bench, `trial` for tune. */
  unit: string;
  /** 1-based. */
  run: number;
  /** Runs in the plan; undefined when not known up front (`--rate max` searches). */
  runs?: number;
  /** What the run is: `kafka (kafkajs)`, `queue 1000, pool 4`. */
  name: string;
  elapsedS: number;
  progress?: RunProgress;
}

/** One progress line: `broker 2/3 kafka · measure 12/60s · sent 12,000 delivered 11,950 · elapsed 1m20s · ~2m40s left`. */
export function formatProgress(d: RunDurations, s: ProgressState): string {
  const parts = [`${s.unit} ${s.run}/${s.runs ?? '?'} ${s.name}`];
  const p = s.progress ?? { phase: 'setup' as const, phaseElapsedS: 0, sent: 0, delivered: 0 };
  parts.push(formatPhase(d, p));
  if (p.phase !== 'setup') parts.push(`sent ${count(p.sent)} delivered ${count(p.delivered)}`);
  parts.push(`elapsed ${formatDuration(s.elapsedS)}`);
  if (s.runs !== undefined) parts.push(`~${formatDuration(planLeftS(d, s.run, s.runs, p.phase, p.phaseElapsedS))} left`);
  return parts.join(' · ');
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  unit: string;
  runs?: number;
  durations: RunDurations;
  quiet?: boolean;
  out?: ProgressOutput;
  /** Milliseconds, any origin (tests pass a fake clock). */
  now?: () => number;
  plainEveryMs?: number;
}

/** The reporter: `startRun` per run, `update` with what the run reports, `note` for lasting lines. */
export class ProgressReporter {
  private readonly out: ProgressOutput;
  private readonly now: () => number;
  private readonly startedAt: number;
  private state: ProgressState | undefined;
  private lastPlainAt = -Infinity;
  /** A TTY line is showing (to be cleared before a lasting line). */
  private showing = false;
  private durations: RunDurations;

  constructor(private readonly options: ProgressOptions) {
    this.out = options.out ?? process.stderr;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.durations = options.durations;
  }

  /**
   * Run `run` (1-based) begins; in a log, its first line is written at once. `durations`: when
   * this run's differ from the plan's (the shorter trials of a `--rate max` search).
   */
  startRun(run: number, name: string, durations?: RunDurations): void {
    this.durations = durations ?? this.options.durations;
    this.state = { unit: this.options.unit, run, runs: this.options.runs, name, elapsedS: 0 };
    this.lastPlainAt = -Infinity;
    this.render();
  }

  update(progress: RunProgress): void {
    if (!this.state) return;
    this.state.progress = progress;
    this.render();
  }

  /** A line that stays (a trial's verdict, a run's end): clears the progress line first. */
  note(line: string): void {
    if (this.options.quiet) return;
    this.out.write(`${this.showing ? '\r\x1b[2K' : ''}${line}\n`);
    this.showing = false;
  }

  /** Clears the progress line (before the results are printed). */
  finish(): void {
    if (this.showing) this.out.write('\r\x1b[2K');
    this.showing = false;
  }

  /** The line as it would be shown now (tests). */
  line(): string {
    if (!this.state) return '';
    return formatProgress(this.durations, { ...this.state, elapsedS: (this.now() - this.startedAt) / 1000 });
  }

  private render(): void {
    if (this.options.quiet || !this.state) return;
    const line = this.line();
    if (this.out.isTTY) {
      // Cut to the terminal's width: a wrapped line could not be rewritten in place.
      const width = this.out.columns ? this.out.columns - 1 : Infinity;
      this.out.write(`\r\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
      this.showing = true;
      return;
    }
    const now = this.now();
    if (now - this.lastPlainAt < (this.options.plainEveryMs ?? 10_000)) return;
    this.lastPlainAt = now;
    this.out.write(`${line}\n`);
  }
}
