// Fault injection as a small wrapper around an SDK client's `send` (as Watermill's): the real
// emulator answers every call the wrapper lets through.
import {
  ExpiredIteratorException,
  ProvisionedThroughputExceededException,
  PutRecordsCommand,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import type { Sendable } from '../../../adapters/kinesis/clients.ts';

type Command = { constructor: { name: string }; input: unknown };

export interface Fault {
  /** Command class name, e.g. GetRecordsCommand. */
  command: string;
  /** Fail the calls with these 1-based indexes (counted per command). */
  calls: ReadonlySet<number>;
  error: () => Error;
}

export const throttled = () =>
  new ProvisionedThroughputExceededException({ message: 'Rate exceeded for shard (injected)', $metadata: { httpStatusCode: 400 } });
export const expiredIterator = () =>
  new ExpiredIteratorException({ message: 'Iterator expired (injected)', $metadata: { httpStatusCode: 400 } });
export const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1 (injected)'), { code: 'ECONNREFUSED' });

export class FaultyClient implements Sendable {
  readonly counts = new Map<string, number>();
  readonly injected = new Map<string, number>();
  /** Every call fails as if the network were gone: a dead or partitioned instance. */
  dead = false;
  /** PutRecords: this share of the entries of each call is refused (not written), as Kinesis does under throttling. */
  putFailureEvery = 0;

  constructor(
    private readonly inner: Sendable,
    private readonly faults: Fault[] = [],
  ) {}

  // biome-ignore lint/suspicious/noExplicitAny: mirrors Sendable.send, whose result type depends on the command.
  async send(command: Command, options?: { abortSignal?: AbortSignal }): Promise<any> {
    const name = command.constructor.name;
    const count = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, count);
    if (this.dead) throw unreachable();
    const fault = this.faults.find((f) => f.command === name && f.calls.has(count));
    if (fault) {
      this.injected.set(name, (this.injected.get(name) ?? 0) + 1);
      throw fault.error();
    }
    if (name === 'PutRecordsCommand' && this.putFailureEvery > 0) return this.partialPut(command as unknown as PutRecordsCommand, options);
    return this.inner.send(command, options);
  }

  /** Writes all entries but every n-th one, and answers as Kinesis does for a partial failure. */
  private async partialPut(command: PutRecordsCommand, options?: { abortSignal?: AbortSignal }) {
    const records = command.input.Records ?? [];
    const refused = (i: number) => records.length > 1 && i % this.putFailureEvery === 0;
    const accepted = records.filter((_, i) => !refused(i));
    const result =
      accepted.length > 0
        ? await this.inner.send(new PutRecordsCommand({ ...command.input, Records: accepted }), options)
        : { Records: [] };
    const answers: PutRecordsResultEntry[] = [];
    let next = 0;
    for (let i = 0; i < records.length; i++) {
      if (refused(i)) {
        this.injected.set('PutRecordsEntry', (this.injected.get('PutRecordsEntry') ?? 0) + 1);
        answers.push({ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded (injected)' });
      } else {
        answers.push(result.Records[next++]);
      }
    }
    return { ...result, FailedRecordCount: answers.filter((a) => a.ErrorCode).length, Records: answers };
  }

  destroy(): void {
    this.inner.destroy();
  }
}
