import { describe, expect, it } from 'vitest';
import { formatDuration, formatProgress, planLeftS, ProgressReporter, type RunDurations, runLeftS } from '../../src/bench/progress.ts';
import { PairedCounts } from '../../src/bench/sampling.ts';

const d: RunDurations = { warmupS: 5, durationS: 60, drainTimeoutS: 30 };

describe('progress: time left from the durations known up front', () => {
  it('counts the rest of the current run by phase, then whole runs after it', () => {
    expect(runLeftS(d, 'setup', 12)).toBe(95);
    expect(runLeftS(d, 'warm-up', 2)).toBe(3 + 60 + 30);
    expect(runLeftS(d, 'measure', 20)).toBe(40 + 30);
    expect(runLeftS(d, 'measure', 75)).toBe(30); // a producer running late: not negative
    expect(runLeftS(d, 'drain', 10)).toBe(20);
    expect(runLeftS(d, 'drain', 45)).toBe(0);
    // Trial 3 of 12 measuring for 20 s: 70 s of it, then 9 trials of 95 s.
    expect(planLeftS(d, 3, 12, 'measure', 20)).toBe(70 + 9 * 95);
    expect(planLeftS(d, 12, 12, 'drain', 30)).toBe(0);
  });

  it('formats durations for people', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(-3)).toBe('0s');
  });

  it('shows run n/N, the phase, the counts, elapsed and time left; no estimate when N is unknown', () => {
    const progress = { phase: 'measure' as const, phaseElapsedS: 12.7, sent: 12000, delivered: 11950 };
    expect(formatProgress(d, { unit: 'trial', run: 3, runs: 12, name: 'memory queue 1000, pool 4', elapsedS: 250, progress })).toBe(
      'trial 3/12 memory queue 1000, pool 4 · measure 12/60s · sent 12,000 delivered 11,950 · elapsed 4m10s · ~15m32s left',
    );
    expect(formatProgress(d, { unit: 'broker', run: 1, name: 'kafka', elapsedS: 3 })).toBe('broker 1/? kafka · setup · elapsed 3s');
    expect(
      formatProgress(d, {
        unit: 'broker',
        run: 2,
        runs: 2,
        name: 'pubsub',
        elapsedS: 100,
        progress: { ...progress, phase: 'drain', phaseElapsedS: 4 },
      }),
    ).toMatch(/drain 4s \(≤30s\) .* ~26s left$/);
    expect(
      formatProgress(d, {
        unit: 'broker',
        run: 1,
        runs: 1,
        name: 'm',
        elapsedS: 1,
        progress: { ...progress, phase: 'warm-up', phaseElapsedS: 2 },
      }),
    ).toContain('warm-up 2/5s');
  });
});

class FakeOut {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns?: number,
  ) {}
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

describe('progress reporter (injected clock)', () => {
  const at = (phase: 'warm-up' | 'measure' | 'drain', s: number) => ({ phase, phaseElapsedS: s, sent: 10, delivered: 5 });

  it('on a terminal rewrites one line in place and clears it before a lasting line', () => {
    let now = 1_000_000;
    const out = new FakeOut(true);
    const reporter = new ProgressReporter({ unit: 'broker', runs: 2, durations: d, out, now: () => now });
    reporter.startRun(1, 'memory');
    now += 2000;
    reporter.update(at('warm-up', 1));
    reporter.note('memory: done in 95 s');
    reporter.finish();
    const writes = out.text.split('\r\x1b[2K').filter(Boolean);
    expect(writes[0]).toBe('broker 1/2 memory · setup · elapsed 0s · ~3m10s left');
    expect(writes[1]).toBe('broker 1/2 memory · warm-up 1/5s · sent 10 delivered 5 · elapsed 2s · ~3m09s left');
    expect(writes[2]).toBe('memory: done in 95 s\n');
    expect(out.text.includes('\n')).toBe(true);
    expect(out.text.split('\n').length).toBe(2); // one lasting line, the progress never
  });

  it('cuts the line to the terminal width (a wrapped line cannot be rewritten)', () => {
    const out = new FakeOut(true, 40);
    new ProgressReporter({ unit: 'broker', runs: 1, durations: d, out, now: () => 0 }).startRun(1, 'kafka (platformatic)');
    const line = out.text.replace('\r\x1b[2K', '');
    expect(line.length).toBeLessThanOrEqual(39);
    expect(line.endsWith('…')).toBe(true);
  });

  it('in a log writes a plain line when a run starts, then at most one per 10 s', () => {
    let now = 0;
    const out = new FakeOut(false);
    const reporter = new ProgressReporter({ unit: 'trial', runs: 12, durations: d, out, now: () => now });
    reporter.startRun(1, 'q100 p1');
    for (let s = 1; s <= 60; s++) {
      now = s * 1000;
      reporter.update(at('measure', s));
    }
    reporter.startRun(2, 'q100 p4');
    const lines = out.text.trimEnd().split('\n');
    // The start, then t = 10, 20, …, 60 s, then the next trial's start.
    expect(lines).toHaveLength(1 + 6 + 1);
    expect(lines.every((line) => !line.includes('\r'))).toBe(true);
    expect(lines[7]).toMatch(/^trial 2\/12 q100 p4 · setup/);
  });

  it('writes nothing with quiet', () => {
    const out = new FakeOut(true);
    const reporter = new ProgressReporter({ unit: 'broker', runs: 1, durations: d, out, quiet: true, now: () => 0 });
    reporter.startRun(1, 'memory');
    reporter.update(at('measure', 3));
    reporter.note('memory: done');
    reporter.finish();
    expect(out.text).toBe('');
  });
});

describe('sent and delivered for the same instant (why bench once showed more delivered than sent)', () => {
  it('pairs the producer count with the newest delivered count read no later', () => {
    const counts = new PairedCounts();
    counts.onProducer({ at: 1000, published: 500, confirmed: 400 });
    counts.onDelivered(1100, 450); // read after the producer's count: may include events published since
    counts.onDelivered(1200, 700);
    expect(counts.sample()).toEqual({ sent: 500, confirmed: 400, delivered: 0 });
    counts.onProducer({ at: 1150, published: 800, confirmed: 690 });
    // 450 was read at 1100 ≤ 1150; 700 (at 1200) is newer than the producer's count.
    expect(counts.sample()).toEqual({ sent: 800, confirmed: 690, delivered: 450 });
    counts.onProducer({ at: 1140, published: 790, confirmed: 600 }); // overtaken in transit: ignored
    expect(counts.sample().sent).toBe(800);
    counts.producerDone(1000, 1000);
    expect(counts.sample()).toEqual({ sent: 1000, confirmed: 1000, delivered: 700 });
    counts.onDelivered(1300, 990); // the drain
    expect(counts.sample().delivered).toBe(990);
  });

  it('never shows delivered above sent when the consumer leads the acknowledgements', () => {
    // A simulated run: events are published at 1/ms, delivered 3 ms later, acknowledged 5 ms
    // later (the consumer sees an event before the producer sees its ack); each side reports
    // every 250 ms with its own phase, and messages arrive late by up to 40 ms.
    const counts = new PairedCounts();
    const messages: { arrive: number; apply: () => void }[] = [];
    for (let t = 0; t <= 5000; t += 250) {
      const tp = t + 7;
      const tc = t + 131;
      messages.push({
        arrive: tp + ((t * 7) % 40),
        apply: () => counts.onProducer({ at: tp, published: tp, confirmed: Math.max(0, tp - 5) }),
      });
      messages.push({ arrive: tc + ((t * 13) % 40), apply: () => counts.onDelivered(tc, Math.max(0, tc - 3)) });
    }
    messages.sort((a, b) => a.arrive - b.arrive);
    // The old way: the latest confirmed count next to the latest delivered count.
    let latestConfirmed = 0;
    let latestDelivered = 0;
    let oldWayAbove = 0;
    for (const message of messages) {
      message.apply();
      const sample = counts.sample();
      expect(sample.delivered).toBeLessThanOrEqual(sample.sent);
      latestConfirmed = Math.max(latestConfirmed, sample.confirmed);
      latestDelivered = Math.max(latestDelivered, (counts as unknown as { delivered: { unique: number }[] }).delivered.at(-1)!.unique);
      if (latestDelivered > latestConfirmed) oldWayAbove++;
    }
    expect(oldWayAbove).toBeGreaterThan(0); // what bench printed before
  });
});
