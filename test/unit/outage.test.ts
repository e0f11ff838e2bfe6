// The source kit's Outage (src/source-kit/outage.ts): what health reports while a broker does not
// answer, and the two log lines an outage gets however many calls fail during it.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Outage } from '../../src/source-kit/index.ts';

function recording() {
  const lines: { level: number; msg: string; error?: string; unreachableMs?: number }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('Outage', () => {
  it('keeps the first failure until the broker answers, logging the outage once when it begins and once when it ends', () => {
    const { logger, lines } = recording();
    const outage = new Outage(logger, 'kafka at b:9092');
    expect(outage.problem).toBeUndefined();
    expect(outage.answered('a heartbeat was answered')).toBe(false); // nothing to end
    const before = Date.now();
    outage.failed('heartbeat failed: ECONNREFUSED');
    outage.failed('no heartbeat answered for 9 s');
    expect(outage.problem).toMatchObject({ message: 'heartbeat failed: ECONNREFUSED' });
    expect(outage.problem!.since).toBeGreaterThanOrEqual(before);
    expect(outage.describe()).toBe('unreachable for 0 s (heartbeat failed: ECONNREFUSED)');
    expect(outage.answered('a heartbeat was answered')).toBe(true);
    expect(outage.problem).toBeUndefined();
    expect(outage.describe()).toBeUndefined();
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [40, 'kafka at b:9092 does not answer; not ready until it does'],
      [30, 'kafka at b:9092 is reachable again (a heartbeat was answered)'],
    ]);
    expect(lines[0]!.error).toBe('heartbeat failed: ECONNREFUSED');
    expect(lines[1]!.unreachableMs).toBeGreaterThanOrEqual(0);
  });

  it('a failure without a message still makes a problem', () => {
    const outage = new Outage(recording().logger, 'pubsub: the server');
    outage.failed('');
    expect(outage.problem?.message).toBe('no answer');
  });
});
