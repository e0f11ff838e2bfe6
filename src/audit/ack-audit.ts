import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, errorMessage } from '../errors.ts';

/**
 * The ack audit (config `audit.file`, off by default): an NDJSON file in which every
 * ack / commit / checkpoint Sluice sends to a broker is written with the ids of the events it
 * covers, together with the completions it rests on. `sluice audit verify FILE` (verify.ts)
 * proves that every acked id was completed by the handler or written to the dead letters first.
 *
 * Who writes what:
 *  - the core (event-processor.ts): `completed` before ack() of an event the handler finished,
 *    `deadLettered` before ack() of one written to the dead letters, `dropped` for events a
 *    lossy queue policy acked without processing;
 *  - each adapter, where it really sends: `committed` for a position commit (Kafka offsets,
 *    Kinesis checkpoints, memory commits) listing the delivered events the commit moves past,
 *    `acked` for a per-message ack handed to a client that batches them (Pub/Sub).
 *
 * Ids are the events' `id`s, stable across redeliveries and restarts (Kafka `topic/partition@offset`,
 * Kinesis `shard/sequence[/subsequence]`, Pub/Sub message id), so a later run's acks join an
 * earlier run's completions: the file is appended to by every run.
 */
export interface AckAudit {
  /** The handler finished the event; called before its ack(). */
  completed(id: string): void;
  /** The event was written to the dead letters; called before its ack(). */
  deadLettered(id: string): void;
  /** A lossy queue policy (drop-newest / drop-oldest) acked the event without processing it. */
  dropped(id: string): void;
  /**
   * Position commits about to be sent. Written ahead: on disk (with every line before them)
   * when this returns, so no commit that reached the broker is missing from the file.
   */
  committed(commits: readonly AuditedCommit[]): void;
  /** A message ack handed to a client that sends acks in batches of its own (buffered). */
  acked(id: string): void;
  /** Writes what is buffered. */
  flush(): void;
  /** Flushes and closes the file; later calls are ignored. */
  close(): void;
}

/** One partition's commit: the position sent and the ids of the delivered events it moves past. */
export interface AuditedCommit {
  /** `topic/partition`, the shard id, …: the events' `position.partition`. */
  readonly partition: string;
  /** What is sent: Kafka's next offset to read, Kinesis' last processed sequence number, SHARD_END. */
  readonly position: string;
  readonly ids: readonly string[];
}

/** The kinds of line in the file (verify.ts reads them). */
export type AuditLine =
  | { k: 'run'; pid: number; broker: string; at: string }
  | { k: 'done' | 'dlq' | 'drop' | 'ack'; ids: string[] }
  | { k: 'commit'; partition: string; position: string; ids: string[] };

type IdKind = 'done' | 'dlq' | 'drop' | 'ack';

/**
 * The file writer. One ordered buffer for every line: calls append in the order they happen and
 * the buffer is written in that order by one synchronous write per tick (`flushIntervalMs`), per
 * commit (write-ahead), when it grows past 1 MiB, and on close. So the file is always a prefix of
 * the true sequence: a SIGKILL can lose the unwritten tail, but it can never keep an ack line
 * while losing the completion lines before it, which is what makes "every acked id was completed
 * before" checkable after a crash. (Two buffers, or asynchronous writes that may land out of
 * order, would not give that.) A tail cut mid-line by a kill is repaired with a newline at the
 * next open; the checker counts such torn lines.
 *
 * Consecutive calls of one kind share a line (`{"k":"done","ids":[…]}`), so a busy pipeline
 * writes a few lines per tick, not one per event.
 */
export class FileAckAudit implements AckAudit {
  private fd: number | undefined;
  private chunks: string[] = [];
  private bytes = 0;
  private kind: IdKind | undefined;
  private ids: string[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly path: string,
    broker: string,
    flushIntervalMs: number,
  ) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, 'a+');
      const { size } = fstatSync(this.fd);
      const last = Buffer.alloc(1);
      // A previous run killed mid-write left a partial line: end it, so this run's lines parse.
      if (size > 0 && readSync(this.fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) writeSync(this.fd, '\n');
    } catch (error) {
      throw new ConfigError('audit.file', `cannot open ${path} for appending: ${errorMessage(error)}`);
    }
    this.line({ k: 'run', pid: process.pid, broker, at: new Date().toISOString() });
    this.flush();
    this.timer = setInterval(() => this.flush(), flushIntervalMs);
    this.timer.unref();
  }

  completed(id: string): void {
    this.add('done', id);
  }

  deadLettered(id: string): void {
    this.add('dlq', id);
  }

  dropped(id: string): void {
    this.add('drop', id);
  }

  acked(id: string): void {
    this.add('ack', id);
  }

  committed(commits: readonly AuditedCommit[]): void {
    for (const { partition, position, ids } of commits) this.line({ k: 'commit', partition, position, ids: [...ids] });
    this.flush();
  }

  flush(): void {
    this.endRun();
    if (this.fd === undefined || this.chunks.length === 0) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.bytes = 0;
    writeSync(this.fd, text);
  }

  close(): void {
    if (this.fd === undefined) return;
    clearInterval(this.timer);
    this.flush();
    closeSync(this.fd);
    this.fd = undefined;
  }

  private add(kind: IdKind, id: string): void {
    if (this.fd === undefined) return;
    if (this.kind !== kind) {
      this.endRun();
      this.kind = kind;
    }
    this.ids.push(id);
    this.bytes += id.length + 3;
    if (this.bytes > 1 << 20) this.flush();
  }

  /** Closes the line of same-kind ids being collected. */
  private endRun(): void {
    if (this.kind === undefined) return;
    const kind = this.kind;
    this.kind = undefined;
    const ids = this.ids;
    this.ids = [];
    this.line({ k: kind, ids });
  }

  private line(entry: AuditLine): void {
    if (this.fd === undefined) return;
    this.endRun();
    const text = `${JSON.stringify(entry)}\n`;
    this.chunks.push(text);
    this.bytes += text.length;
  }
}
