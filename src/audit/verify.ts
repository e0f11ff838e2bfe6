import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AuditLine } from './ack-audit.ts';

/** An acked id that was neither completed nor dead-lettered before the ack that covered it. */
export interface AuditViolation {
  id: string;
  /** 1-based line of the first ack / commit covering it. */
  line: number;
  /** Which run (1-based, in file order) wrote that line. */
  run: number;
  /** What covered it: `ack`, or `commit <partition> <position>`. */
  by: string;
  /** Completed (or dead-lettered) only after the ack, in the file; else never. */
  completedLater: boolean;
}

/** The checker's verdict on one audit file. */
export interface AuditReport {
  file: string;
  /** Process runs that appended to the file. */
  runs: number;
  lines: number;
  /** Lines that do not parse: a tail cut by a SIGKILL (at most one per run is expected). */
  torn: number;
  /** Distinct ids completed by the handler / written to the dead letters / dropped by the queue policy. */
  completed: number;
  deadLettered: number;
  dropped: number;
  /** Ack and commit lines (each an ack Sluice sent, or a batch of per-message acks). */
  acks: number;
  /** Distinct ids those covered. */
  ackedIds: number;
  /** Acked ids that a lossy queue policy dropped: allowed (the policy chose to lose them), reported. */
  ackedDropped: number;
  /** Distinct acked ids not completed nor dead-lettered before their first ack. */
  violations: number;
  /** The first violations (at most `maxExamples`). */
  examples: AuditViolation[];
}

/**
 * Reads an audit file (src/audit/ack-audit.ts) in order and checks that every id an ack or
 * commit line covers has a `done` or `dlq` line earlier in the file (any run). Streaming: the
 * file is read once, holding the set of settled ids.
 */
export async function verifyAudit(file: string, options: { maxExamples?: number } = {}): Promise<AuditReport> {
  const maxExamples = options.maxExamples ?? 10;
  const done = new Set<string>();
  const dlq = new Set<string>();
  const drop = new Set<string>();
  const acked = new Set<string>();
  const violating = new Map<string, AuditViolation>();
  const report: AuditReport = {
    file,
    runs: 0,
    lines: 0,
    torn: 0,
    completed: 0,
    deadLettered: 0,
    dropped: 0,
    acks: 0,
    ackedIds: 0,
    ackedDropped: 0,
    violations: 0,
    examples: [],
  };
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of lines) {
    report.lines++;
    if (text.trim() === '') continue;
    let entry: AuditLine;
    try {
      entry = JSON.parse(text) as AuditLine;
    } catch {
      report.torn++;
      continue;
    }
    switch (entry.k) {
      case 'run':
        report.runs++;
        break;
      case 'done':
        for (const id of entry.ids) done.add(id);
        break;
      case 'dlq':
        for (const id of entry.ids) dlq.add(id);
        break;
      case 'drop':
        for (const id of entry.ids) drop.add(id);
        break;
      case 'ack':
      case 'commit': {
        report.acks++;
        const by = entry.k === 'commit' ? `commit ${entry.partition} ${entry.position}` : 'ack';
        for (const id of entry.ids) {
          acked.add(id);
          if (done.has(id) || dlq.has(id) || drop.has(id) || violating.has(id)) continue;
          violating.set(id, { id, line: report.lines, run: report.runs, by, completedLater: false });
        }
        break;
      }
      default:
        report.torn++;
    }
  }
  for (const violation of violating.values()) violation.completedLater = done.has(violation.id) || dlq.has(violation.id);
  report.completed = done.size;
  report.deadLettered = dlq.size;
  report.dropped = drop.size;
  report.ackedIds = acked.size;
  for (const id of acked) if (drop.has(id) && !done.has(id) && !dlq.has(id)) report.ackedDropped++;
  report.violations = violating.size;
  report.examples = [...violating.values()].slice(0, maxExamples);
  return report;
}

/** The report as a few lines for a terminal. */
export function formatAuditReport(report: AuditReport): string {
  const lines = [
    `audit ${report.file}: ${report.runs} run(s), ${report.lines} lines${report.torn > 0 ? ` (${report.torn} torn by a kill)` : ''}`,
    `  acks sent: ${report.acks}, covering ${report.ackedIds} distinct event ids`,
    `  completed: ${report.completed}, dead-lettered: ${report.deadLettered}, dropped by the queue policy: ${report.dropped}` +
      (report.ackedDropped > 0 ? ` (${report.ackedDropped} of them acked)` : ''),
    `  violations (acked, not completed nor dead-lettered before): ${report.violations}`,
  ];
  for (const v of report.examples) {
    lines.push(
      `    ${v.id}: ${v.by} at line ${v.line} (run ${v.run}); ${v.completedLater ? 'completed only after that ack' : 'never completed'}`,
    );
  }
  if (report.violations > report.examples.length) lines.push(`    … and ${report.violations - report.examples.length} more`);
  lines.push(report.violations === 0 ? 'audit clean' : 'audit FAILED');
  return lines.join('\n');
}
