import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryBroker } from '../../adapters/memory/memory-broker.ts';
import { FileAckAudit } from '../../src/audit/ack-audit.ts';
import { comparePositions, DeliveredLedger } from '../../src/audit/delivered-ledger.ts';
import { formatAuditReport, verifyAudit } from '../../src/audit/verify.ts';
import { loadConfig } from '../../src/config/load.ts';
import { FileDeadLetter } from '../../src/dead-letter/file-dead-letter.ts';
import { spawnSluice } from '../sluice-cli.ts';
import { eventually, memoryPipeline, numbered, seqOf } from './helpers.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-audit-'));
});

const lines = (...entries: object[]) => `${entries.map((entry) => JSON.stringify(entry)).join('\n')}\n`;
const run = { k: 'run', pid: 1, broker: 'kafka', at: '2026-01-01T00:00:00.000Z' };

describe('audit checker (verifyAudit)', () => {
  it('is clean when every acked id was completed or dead-lettered before, in this run or an earlier one', async () => {
    const file = join(dir, 'clean.ndjson');
    await writeFile(
      file,
      lines(
        run,
        { k: 'done', ids: ['t/0@0', 't/0@1'] },
        { k: 'dlq', ids: ['t/0@2'] },
        { k: 'commit', partition: 't/0', position: '2', ids: ['t/0@0', 't/0@1'] },
        run, // a restart: t/0@2 was dead-lettered by the first run
        { k: 'done', ids: ['t/0@3'] },
        { k: 'commit', partition: 't/0', position: '4', ids: ['t/0@2', 't/0@3'] },
      ),
    );
    const report = await verifyAudit(file);
    expect(report).toMatchObject({ runs: 2, acks: 2, ackedIds: 4, completed: 3, deadLettered: 1, violations: 0, torn: 0 });
    expect(formatAuditReport(report)).toContain('audit clean');
  });

  it('catches an ack for an id never completed, and one completed only after its ack', async () => {
    const file = join(dir, 'bad.ndjson');
    await writeFile(
      file,
      lines(
        run,
        { k: 'done', ids: ['m1'] },
        { k: 'ack', ids: ['m1', 'm2'] }, // m2: never completed
        { k: 'ack', ids: ['m3'] }, // m3: completed after the ack
        { k: 'done', ids: ['m3'] },
      ),
    );
    const report = await verifyAudit(file);
    expect(report.violations).toBe(2);
    expect(report.examples).toEqual([
      { id: 'm2', line: 3, run: 1, by: 'ack', completedLater: false },
      { id: 'm3', line: 4, run: 1, by: 'ack', completedLater: true },
    ]);
    const text = formatAuditReport(report);
    expect(text).toContain('m2: ack at line 3 (run 1); never completed');
    expect(text).toContain('audit FAILED');
  });

  it('counts lines torn by a kill without failing, and reports acks of dropped events apart', async () => {
    const file = join(dir, 'torn.ndjson');
    await writeFile(
      file,
      `${lines(run, { k: 'done', ids: ['a'] })}{"k":"done","ids":["b"\n${lines(run, { k: 'drop', ids: ['c'] }, { k: 'ack', ids: ['a', 'c'] })}`,
    );
    const report = await verifyAudit(file);
    expect(report).toMatchObject({ runs: 2, torn: 1, violations: 0, dropped: 1, ackedDropped: 1 });
  });

  it('`sluice audit verify` exits 1 and names the violation; 0 on a clean file; 2 on a missing one', { timeout: 60_000 }, async () => {
    // The three commands run side by side: each starts tsx, slow on a busy machine.
    const bad = join(dir, 'bad.ndjson');
    await writeFile(bad, lines(run, { k: 'commit', partition: 's-1', position: '49', ids: ['s-1/49'] }));
    const clean = join(dir, 'clean.ndjson');
    await writeFile(clean, lines(run, { k: 'done', ids: ['x'] }, { k: 'ack', ids: ['x'] }));
    const failing = spawnSluice(['audit', 'verify', bad]);
    const passing = spawnSluice(['audit', 'verify', '--json', clean]);
    const missing = spawnSluice(['audit', 'verify', join(dir, 'nope.ndjson')]);
    expect(await failing.exited).toBe(1);
    expect(failing.output.stdout).toContain('violations (acked, not completed nor dead-lettered before): 1');
    expect(failing.output.stdout).toContain('s-1/49: commit s-1 49 at line 2 (run 1); never completed');
    expect(await passing.exited).toBe(0);
    expect(JSON.parse(passing.output.stdout)).toMatchObject({ violations: 0, acks: 1, ackedIds: 1 });
    expect(await missing.exited).toBe(2);
    expect(missing.output.stderr).toContain('does not exist');
  });
});

describe('audit file (FileAckAudit)', () => {
  it('keeps the order of calls, groups ids of one kind per line, and writes commits ahead', async () => {
    const file = join(dir, 'a.ndjson');
    const audit = new FileAckAudit(file, 'memory', 60_000);
    audit.completed('p/0@0');
    audit.completed('p/0@1');
    audit.deadLettered('p/0@2');
    audit.committed([{ partition: 'p/0', position: '3', ids: ['p/0@0', 'p/0@1', 'p/0@2'] }]);
    // Written ahead: on disk before any flush tick.
    const written = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(written.map((entry) => entry.k)).toEqual(['run', 'done', 'dlq', 'commit']);
    expect(written[1].ids).toEqual(['p/0@0', 'p/0@1']);
    audit.completed('m');
    audit.acked('m');
    expect((await readFile(file, 'utf8')).includes('"m"')).toBe(false); // buffered
    audit.close();
    expect((await verifyAudit(file)).violations).toBe(0);
    expect((await verifyAudit(file)).acks).toBe(2);
  });

  it('ends a line torn by a kill before appending, so the next run parses', async () => {
    const file = join(dir, 'b.ndjson');
    await writeFile(file, lines(run).concat('{"k":"done","ids":["x'));
    const audit = new FileAckAudit(file, 'kafka', 60_000);
    audit.close();
    const report = await verifyAudit(file);
    expect(report).toMatchObject({ runs: 2, torn: 1 });
  });

  it('names audit.file when it cannot be opened', () => {
    expect(() => new FileAckAudit(join(dir, 'missing-file-as-dir.ndjson', '\0bad'), 'memory', 100)).toThrow(/audit\.file/);
  });
});

describe('audit config', () => {
  it('is off by default and turned on by audit.file or SLUICE_AUDIT__FILE', async () => {
    expect((await loadConfig(undefined, {})).audit).toEqual({ file: undefined, flushIntervalMs: 200 });
    const config = await loadConfig(undefined, {
      SLUICE_AUDIT__FILE: '/var/lib/sluice/audit.ndjson',
      SLUICE_AUDIT__FLUSH_INTERVAL_MS: '50',
    });
    expect(config.audit).toEqual({ file: '/var/lib/sluice/audit.ndjson', flushIntervalMs: 50 });
  });
});

describe('DeliveredLedger', () => {
  it('takes the ids below (or up to) a position, skipping positions seen again', () => {
    const ledger = new DeliveredLedger();
    for (const offset of ['8', '9', '10', '11']) ledger.record(offset, `t/0@${offset}`);
    ledger.record('9', 't/0@9'); // a redelivery
    expect(ledger.take('10', false)).toEqual(['t/0@8', 't/0@9']);
    expect(ledger.take('10', true)).toEqual(['t/0@10']);
    ledger.record('12', 's/12/0'); // two user records of one aggregate share a position
    ledger.record('12', 's/12/1');
    ledger.record('12', 's/12/0');
    expect(ledger.takeAll()).toEqual(['t/0@11', 's/12/0', 's/12/1']);
    expect(ledger.size).toBe(0);
  });

  it('orders decimal positions of any length (Kinesis sequence numbers) without BigInt', () => {
    expect(comparePositions('49590338271490256608559692538361571095921575989136588898', '9')).toBeGreaterThan(0);
    expect(comparePositions('100', '99')).toBeGreaterThan(0);
    expect(comparePositions('42', '42')).toBe(0);
  });
});

describe('audit on the memory broker', () => {
  it('a normal run is clean: every commit covers only completed or dead-lettered events', async () => {
    const file = join(dir, 'memory.ndjson');
    const audit = new FileAckAudit(file, 'memory', 20);
    const broker = new MemoryBroker();
    const seen = new Set<number>();
    const deadLetter = new FileDeadLetter(join(dir, 'dlq.jsonl'));
    const { pipeline } = memoryPipeline(
      broker,
      async (event) => {
        const n = seqOf(event.payload);
        if (n % 97 === 0) throw new Error('poison');
        seen.add(n);
      },
      { audit, deadLetter, pool: { size: 8, orderByKey: true } },
    );
    await pipeline.start();
    await broker.publish('events', numbered(2_000, 64));
    await eventually(() => pipeline.stats.completed >= 2_000, 20_000, 'all events settled');
    await pipeline.stop();
    const report = await verifyAudit(file);
    expect(report.violations, formatAuditReport(report)).toBe(0);
    expect(report.deadLettered).toBe(21);
    expect(report.completed).toBe(2_000 - 21);
    expect(report.ackedIds).toBe(2_000);
  });

  it('catches a source that commits past an event not yet processed', async () => {
    const file = join(dir, 'early.ndjson');
    const audit = new FileAckAudit(file, 'memory', 20);
    // A broken "source": acks (commits) first, completes afterwards.
    audit.committed([{ partition: 'events/0', position: '1', ids: ['events/0@0'] }]);
    audit.completed('events/0@0');
    audit.close();
    await appendFile(file, '');
    const report = await verifyAudit(file);
    expect(report.violations).toBe(1);
    expect(report.examples[0]).toMatchObject({ id: 'events/0@0', completedLater: true, by: 'commit events/0 1' });
  });
});
