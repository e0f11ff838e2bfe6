// `--workload`: the arrival process at the broker, as a piecewise-constant rate plus how events
// are spaced within it. Every shape becomes segments [t_i, t_i+1) of constant rate, so one
// generator serves them all (see Arrivals). Parse errors name the flag and list the forms.
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { parseDuration } from '../cli/units.ts';
import type { Random } from './random.ts';

export const workloadForms = [
  'constant:10000/s',
  'poisson:10000/s',
  'steady:10000/s,peak:50000/s,for:30s,every:5m[,start:10s]',
  'ramp:1000/s..50000/s,over:60s',
  'replay:FILE (CSV lines t_seconds,rate; a header line is skipped)',
]
  .join(' | ')
  .concat('; steady, ramp and replay take ,arrivals:poisson for Poisson arrivals (default: evenly spaced)');

/** Append `,arrivals:poisson` to steady/ramp/replay for Poisson arrivals at that rate. */
export interface Workload {
  /** The text it was parsed from, for reports. */
  spec: string;
  /** Segment start times (s); segment i runs to starts[i+1] (the last one to the horizon). */
  starts: number[];
  /** Events per second in each segment. */
  rates: number[];
  /** deterministic: evenly spaced (as the bench's open-loop producer); poisson: exponential gaps. */
  arrivals: 'deterministic' | 'poisson';
}

const fail = (flag: string, value: string, why: string): never => {
  throw new ConfigError(flag, `${why} in "${value}"; accepted forms: ${workloadForms}`);
};

function rateOf(text: string | undefined, flag: string, spec: string): number {
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(text?.trim() ?? '');
  if (!match) return fail(flag, spec, `expected a rate such as 10000/s, got "${text ?? ''}"`);
  return Number(match[1]);
}

/** Parses `--workload`. `read` reads a replay file (tests pass their own). */
export function parseWorkload(
  spec: string,
  flag = '--workload',
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): Workload {
  const text = spec.trim();
  const colon = text.indexOf(':');
  if (colon <= 0) return fail(flag, spec, 'expected <shape>:<parameters>');
  const shape = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (shape === 'constant' || shape === 'poisson') {
    const rate = rateOf(rest, flag, spec);
    return { spec, starts: [0], rates: [rate], arrivals: shape === 'poisson' ? 'poisson' : 'deterministic' };
  }
  if (shape === 'replay') {
    const [path, ...options] = rest.split(',');
    const { arrivals } = keyValues(options, flag, spec, ['arrivals']);
    return { spec, ...readReplay(path!.trim(), flag, read), arrivals: arrivalsOf(arrivals, flag, spec) };
  }
  if (shape === 'ramp') {
    const [range, ...options] = rest.split(',');
    const [from, to] = (range ?? '').split('..');
    if (to === undefined) fail(flag, spec, 'a ramp needs <from>/s..<to>/s');
    const start = rateOf(from, flag, spec);
    const end = rateOf(to, flag, spec);
    const values = keyValues(options, flag, spec, ['over', 'arrivals']);
    if (!values.over) fail(flag, spec, 'a ramp needs over:<duration>');
    const over = parseDuration(values.over!, flag, 's');
    // Steps of 100 ms (or 1/200 of the ramp): within 0.5 % of a linear rate, and one generator for all shapes.
    const steps = Math.max(1, Math.min(10_000, Math.ceil(over / 0.1)));
    const starts: number[] = [];
    const rates: number[] = [];
    for (let i = 0; i < steps; i++) {
      starts.push((i * over) / steps);
      rates.push(start + ((end - start) * (i + 0.5)) / steps);
    }
    starts.push(over);
    rates.push(end);
    return { spec, starts, rates, arrivals: arrivalsOf(values.arrivals, flag, spec) };
  }
  if (shape === 'steady') {
    const parts = text.split(',');
    const values = keyValues(parts, flag, spec, ['steady', 'peak', 'for', 'every', 'start', 'arrivals']);
    for (const key of ['peak', 'for', 'every'] as const) if (!values[key]) fail(flag, spec, `bursts need ${key}:`);
    const steady = rateOf(values.steady, flag, spec);
    const peak = rateOf(values.peak, flag, spec);
    const length = parseDuration(values.for!, flag, 's');
    const every = parseDuration(values.every!, flag, 's');
    const first = values.start ? parseDuration(values.start, flag, 's') : Math.min(10, every);
    if (length >= every) fail(flag, spec, 'for: must be shorter than every:');
    const starts: number[] = [0];
    const rates: number[] = [steady];
    // Enough periods for any horizon up to a day.
    for (let t = first; t < 86_400; t += every) {
      starts.push(t, t + length);
      rates.push(peak, steady);
    }
    if (starts[1] === 0) {
      starts.shift();
      rates.shift();
    }
    return { spec, starts, rates, arrivals: arrivalsOf(values.arrivals, flag, spec) };
  }
  return fail(flag, spec, `unknown shape "${shape}"`);
}

function keyValues(parts: string[], flag: string, spec: string, allowed: string[]): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  for (const part of parts) {
    const at = part.indexOf(':');
    const key = part.slice(0, at).trim();
    if (at <= 0 || !allowed.includes(key)) fail(flag, spec, `unexpected "${part}" (expected ${allowed.map((k) => `${k}:`).join(', ')})`);
    values[key] = part.slice(at + 1).trim();
  }
  return values;
}

function arrivalsOf(value: string | undefined, flag: string, spec: string): Workload['arrivals'] {
  if (value === undefined || value === 'deterministic') return 'deterministic';
  if (value === 'poisson') return 'poisson';
  return fail(flag, spec, `arrivals: is deterministic or poisson, got "${value}"`);
}

function readReplay(path: string, flag: string, read: (path: string) => string): Pick<Workload, 'starts' | 'rates'> {
  let text: string;
  try {
    text = read(path);
  } catch (error) {
    throw new ConfigError(flag, `cannot read the replay file ${path}: ${(error as Error).message}`);
  }
  const starts: number[] = [];
  const rates: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const [t, rate] = trimmed.split(',').map((cell) => Number(cell.trim()));
    if (!Number.isFinite(t) || !Number.isFinite(rate) || t! < 0 || rate! < 0) {
      if (starts.length === 0 && i === 0) return; // a header line
      throw new ConfigError(flag, `${path} line ${i + 1}: expected t_seconds,rate (numbers >= 0), got "${trimmed}"`);
    }
    if (starts.length > 0 && t! <= starts[starts.length - 1]!) {
      throw new ConfigError(flag, `${path} line ${i + 1}: times must increase (${t} after ${starts[starts.length - 1]})`);
    }
    starts.push(t!);
    rates.push(rate!);
  });
  if (starts.length === 0) throw new ConfigError(flag, `${path}: no t_seconds,rate lines`);
  if (starts[0] !== 0) {
    starts.unshift(0);
    rates.unshift(0);
  }
  return { starts, rates };
}

/** The mean offered rate over [0, horizon). */
export function meanRate(workload: Workload, horizon: number): number {
  let events = 0;
  for (let i = 0; i < workload.starts.length && workload.starts[i]! < horizon; i++) {
    const end = Math.min(horizon, workload.starts[i + 1] ?? horizon);
    events += (end - workload.starts[i]!) * workload.rates[i]!;
  }
  return events / horizon;
}

/**
 * Arrival times in order. Each event needs one unit of "rate integral": exactly 1 when
 * deterministic, an exponential(1) draw when Poisson (a time change of a unit-rate Poisson
 * process: exact for a piecewise-constant rate). The first deterministic event is at t = 0, as
 * the bench's first event is due at its start.
 */
export class Arrivals {
  private t = 0;
  private segment = 0;
  private first = true;
  /** Deterministic fast path: the gap and end of the current segment. */
  private gap = 0;
  private segmentEnd = 0;
  /** t = base + steps × gap: no drift from adding the gap a million times. */
  private base = 0;
  private steps = 0;

  constructor(
    private readonly workload: Workload,
    private readonly random: Random,
    private readonly horizon: number,
  ) {}

  /**
   * The next arrival time (s), or Infinity at or past the horizon. Within a nanosecond of the
   * horizon is at it: k × (1/rate) can fall just short of it in floating point (3000 × (1/3000)
   * s), which would be one event too many for 1 s at 3000/s.
   */
  next(): number {
    if (this.gap > 0) {
      const t = this.base + ++this.steps * this.gap;
      if (t < this.segmentEnd - HORIZON_EPSILON_S) {
        this.t = t;
        return t;
      }
    }
    const { starts, rates } = this.workload;
    let need = this.workload.arrivals === 'poisson' ? this.random.exponential(1) : this.first ? 0 : 1;
    this.first = false;
    let t = this.t;
    for (;;) {
      const end = this.segment + 1 < starts.length ? starts[this.segment + 1]! : this.horizon;
      const rate = rates[this.segment]!;
      const room = (end - t) * rate;
      if (need <= room && rate > 0) {
        t += need / rate;
        break;
      }
      need -= Math.max(0, room);
      t = end;
      if (this.segment + 1 >= starts.length || end >= this.horizon) {
        this.t = this.horizon;
        return Number.POSITIVE_INFINITY;
      }
      this.segment++;
    }
    this.t = t;
    if (this.workload.arrivals === 'deterministic') {
      this.gap = 1 / rates[this.segment]!;
      this.base = t;
      this.steps = 0;
      this.segmentEnd = Math.min(this.horizon, this.segment + 1 < starts.length ? starts[this.segment + 1]! : this.horizon);
    }
    return t < this.horizon - HORIZON_EPSILON_S ? t : Number.POSITIVE_INFINITY;
  }
}

/** Arrivals this close to the horizon (or a segment's end) are at it: see {@link Arrivals.next}. */
const HORIZON_EPSILON_S = 1e-9;
