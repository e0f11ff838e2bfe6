import { open, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Span } from '@opentelemetry/api';
import type { SourceEvent } from '../broker/contract.ts';
import { deadLetterHeaders, type DeadLetterSink } from './dead-letter.ts';

/**
 * Dead letters as JSON lines in a file, one object per event with the payload in base64 and the
 * error in `headers`. Each write is flushed to disk (fdatasync) before the event is acked, since
 * the ack lets the broker forget it. Writes are serialised so lines never interleave.
 */
export class FileDeadLetter implements DeadLetterSink {
  private file: Promise<FileHandle> | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  get description(): string {
    return `file ${this.path}`;
  }

  write(event: SourceEvent, error: unknown, attempts: number, span?: Span): Promise<void> {
    const line = `${JSON.stringify({
      id: event.id,
      source: event.source,
      key: event.key ?? null,
      position: event.position,
      timestamp: event.timestamp,
      headers: deadLetterHeaders(event, error, attempts, span),
      payload: event.payload.toString('base64'),
    })}\n`;
    const write = this.tail.then(async () => {
      const file = await this.handle();
      await file.appendFile(line);
      await file.datasync();
    });
    this.tail = write.catch(() => undefined);
    return write;
  }

  async close(): Promise<void> {
    await this.tail;
    if (this.file) await (await this.file).close();
    this.file = undefined;
  }

  private handle(): Promise<FileHandle> {
    this.file ??= mkdir(dirname(this.path), { recursive: true }).then(() => open(this.path, 'a'));
    return this.file;
  }
}
