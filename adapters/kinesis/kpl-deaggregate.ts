import { createHash } from 'node:crypto';

/**
 * De-aggregation of records written by the Kinesis Producer Library (KPL) with aggregation on.
 *
 * Such a record's data is: the magic 0xF3 0x89 0x9A 0xC2, then a protobuf `AggregatedRecord`,
 * then the 16-byte MD5 of the protobuf bytes.
 *
 *   message AggregatedRecord {
 *     repeated string partition_key_table = 1;
 *     repeated string explicit_hash_key_table = 2;
 *     repeated Record records = 3;
 *   }
 *   message Record {
 *     required uint64 partition_key_index = 1;
 *     optional uint64 explicit_hash_key_index = 2;
 *     required bytes data = 3;
 *     repeated Tag tags = 4;           // ignored
 *   }
 *
 * As in the KCL, data that has the magic but not a matching MD5, or that does not parse, is
 * handed over as one plain record. The decoder is a few lines of varint reading, so the hot path
 * needs no protobuf library; sub-record payloads are views into the record's buffer, not copies.
 */
export const KPL_MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
const MD5_LENGTH = 16;

export interface UserRecord {
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  readonly data: Buffer;
  /** Position of the user record inside its Kinesis record (the KCL's subSequenceNumber). */
  readonly subSequenceNumber: number;
}

/** True if `data` starts with the KPL magic (cheap test before the real work). */
export function looksAggregated(data: Uint8Array): boolean {
  return data.length >= KPL_MAGIC.length + MD5_LENGTH && data[0] === 0xf3 && data[1] === 0x89 && data[2] === 0x9a && data[3] === 0xc2;
}

/**
 * The user records of a KPL aggregated record, or undefined when `data` is not one (no magic,
 * wrong MD5, malformed protobuf): the caller then treats it as a plain record.
 */
export function deaggregate(data: Buffer): UserRecord[] | undefined {
  if (!looksAggregated(data)) return undefined;
  const body = data.subarray(KPL_MAGIC.length, data.length - MD5_LENGTH);
  const digest = data.subarray(data.length - MD5_LENGTH);
  if (!createHash('md5').update(body).digest().equals(digest)) return undefined;
  try {
    return decodeAggregatedRecord(body);
  } catch {
    return undefined;
  }
}

class Reader {
  position = 0;
  constructor(
    readonly buffer: Buffer,
    readonly end = buffer.length,
  ) {}

  get done(): boolean {
    return this.position >= this.end;
  }

  /** A base-128 varint; exact up to 2^53, which covers every index and length here. */
  varint(): number {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      if (this.position >= this.end) throw new Error('truncated varint');
      const byte = this.buffer[this.position++]!;
      result += (byte & 0x7f) * multiplier;
      if ((byte & 0x80) === 0) return result;
      multiplier *= 128;
    }
    throw new Error('varint too long');
  }

  /** The bytes of a length-delimited field. */
  bytes(): Buffer {
    const length = this.varint();
    const start = this.position;
    if (start + length > this.end) throw new Error('truncated field');
    this.position += length;
    return this.buffer.subarray(start, start + length);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.position += 8;
        break;
      case 2:
        this.bytes();
        return;
      case 5:
        this.position += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${wireType}`);
    }
    if (this.position > this.end) throw new Error('truncated field');
  }
}

interface RawRecord {
  partitionKeyIndex: number;
  explicitHashKeyIndex: number | undefined;
  data: Buffer;
}

function decodeRecord(buffer: Buffer): RawRecord {
  const reader = new Reader(buffer);
  let partitionKeyIndex: number | undefined;
  let explicitHashKeyIndex: number | undefined;
  let data: Buffer | undefined;
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 1 && wireType === 0) partitionKeyIndex = reader.varint();
    else if (field === 2 && wireType === 0) explicitHashKeyIndex = reader.varint();
    else if (field === 3 && wireType === 2) data = reader.bytes();
    else reader.skip(wireType);
  }
  if (partitionKeyIndex === undefined || data === undefined) throw new Error('record without partition key index or data');
  return { partitionKeyIndex, explicitHashKeyIndex, data };
}

function decodeAggregatedRecord(body: Buffer): UserRecord[] {
  const reader = new Reader(body);
  const partitionKeys: string[] = [];
  const explicitHashKeys: string[] = [];
  const raw: RawRecord[] = [];
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 1 && wireType === 2) partitionKeys.push(reader.bytes().toString('utf8'));
    else if (field === 2 && wireType === 2) explicitHashKeys.push(reader.bytes().toString('utf8'));
    else if (field === 3 && wireType === 2) raw.push(decodeRecord(reader.bytes()));
    else reader.skip(wireType);
  }
  return raw.map((record, index) => {
    const partitionKey = partitionKeys[record.partitionKeyIndex];
    if (partitionKey === undefined) throw new Error(`partition key index ${record.partitionKeyIndex} out of range`);
    const explicitHashKey = record.explicitHashKeyIndex === undefined ? undefined : explicitHashKeys[record.explicitHashKeyIndex];
    return { partitionKey, explicitHashKey, data: record.data, subSequenceNumber: index };
  });
}
