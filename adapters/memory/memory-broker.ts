import { NotFoundError, SluiceError } from '../../src/errors.ts';
import { NO_HEADERS } from '../../src/source-kit/index.ts';
import type { OutgoingEvent } from '../../src/broker/contract.ts';
import { Notifier } from '../../src/util/notifier.ts';

/** One record of a partition's log. */
export interface MemoryRecord {
  readonly offset: number;
  readonly key: string | undefined;
  readonly payload: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;
}

/**
 * A record's headers, fixed at publish as a broker's log fixes them: a frozen copy, so a publisher
 * that reuses or changes its headers object afterwards does not change what was published. A
 * record without headers shares {@link NO_HEADERS} instead of holding an empty object of its own:
 * besides the memory (a backlog of a million records held a million of them), reading an event's
 * headers then touches one hot object instead of one allocated at publish time, long out of the
 * CPU's caches. Tracing reads every event's `traceparent`, and that cache miss per event was most
 * of what tracing cost bench:tracing's untraced events (~100 ns an event, a sixth of the core's).
 */
function recordHeaders(headers: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> {
  if (headers === undefined) return NO_HEADERS;
  for (const _ in headers) return Object.freeze({ ...headers });
  return NO_HEADERS;
}

/** An append-only log with a moving start (records every group committed are trimmed). */
export class MemoryPartition {
  /** records[i] has offset start + i. */
  records: MemoryRecord[] = [];
  start = 0;
  private roomWaiters: (() => void)[] = [];

  constructor(
    readonly topic: MemoryTopic,
    readonly index: number,
  ) {}

  get end(): number {
    return this.start + this.records.length;
  }

  append(event: OutgoingEvent, timestamp: number): void {
    this.records.push({ offset: this.end, key: event.key, payload: event.payload, headers: recordHeaders(event.headers), timestamp });
  }

  /** Up to `max` records from `offset` on (offsets already trimmed are skipped). */
  read(offset: number, max: number): MemoryRecord[] {
    const from = Math.max(0, offset - this.start);
    return this.records.slice(from, from + max);
  }

  /** Drops records every group has committed; wakes publishers waiting for room. */
  trim(upTo: number): void {
    const count = Math.min(upTo, this.end) - this.start;
    if (count <= 0) return;
    // Cheap amortised trimming: slice only once a good share of the log is behind us.
    // A publisher waiting for room gets it at once.
    if (this.roomWaiters.length === 0 && count < 4096 && count * 2 < this.records.length) return;
    this.records = this.records.slice(count);
    this.start += count;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  waitForRoom(): Promise<void> {
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }
}

export class MemoryTopic {
  readonly partitions: MemoryPartition[];
  /** Notified whenever records were appended to any partition. */
  readonly appended = new Notifier();
  private roundRobin = 0;

  constructor(
    readonly name: string,
    partitionCount: number,
  ) {
    this.partitions = Array.from({ length: partitionCount }, (_, i) => new MemoryPartition(this, i));
  }

  /** Keyed events go to hash(key) mod partitions (so a key keeps its order); others round-robin. */
  partitionFor(key: string | undefined): MemoryPartition {
    if (key === undefined) return this.partitions[this.roundRobin++ % this.partitions.length]!;
    return this.partitions[fnv1a(key) % this.partitions.length]!;
  }
}

/** 32-bit FNV-1a: a stable, fast hash for key routing. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The embedded broker: topics with partitions, keyed routing, consumer-group offsets, bounded
 * retention. It lives in the process, so a "restart" in tests is a new source on the same broker.
 * Brokers are shared by name so that a source, a publisher and an admin of one process meet.
 */
export class MemoryBroker {
  private static readonly instances = new Map<string, MemoryBroker>();
  readonly topics = new Map<string, MemoryTopic>();
  /** group → "topic/partition" → next offset to read. */
  private readonly groups = new Map<string, Map<string, number>>();
  /** group → id of the source that holds it (one active source per group). */
  private readonly holders = new Map<string, symbol>();

  constructor(readonly maxBacklog = 100_000) {}

  static shared(name = 'default', maxBacklog?: number): MemoryBroker {
    let broker = MemoryBroker.instances.get(name);
    if (!broker) {
      broker = new MemoryBroker(maxBacklog);
      MemoryBroker.instances.set(name, broker);
    }
    return broker;
  }

  createTopic(name: string, partitions: number): MemoryTopic {
    let topic = this.topics.get(name);
    if (!topic) {
      topic = new MemoryTopic(name, partitions);
      this.topics.set(name, topic);
    }
    return topic;
  }

  topic(name: string): MemoryTopic {
    const topic = this.topics.get(name);
    if (!topic) throw new NotFoundError(`memory broker: topic ${name} does not exist`);
    return topic;
  }

  deleteTopic(name: string): void {
    this.topics.delete(name);
  }

  /**
   * Appends events in order. Waits (the publisher is paused) while a partition holds more than
   * `maxBacklog` records not yet committed by every group.
   */
  async publish(topicName: string, events: readonly OutgoingEvent[], defaultPartitions = 4): Promise<void> {
    const topic = this.createTopic(topicName, defaultPartitions);
    const timestamp = Date.now();
    for (const event of events) {
      const partition = topic.partitionFor(event.key);
      while (partition.records.length >= this.maxBacklog) {
        this.trimPartition(partition);
        if (partition.records.length < this.maxBacklog) break;
        topic.appended.notify();
        await partition.waitForRoom();
      }
      partition.append(event, timestamp);
    }
    topic.appended.notify();
  }

  /** Claims a group for one source; a second concurrent source of the group is refused. */
  join(group: string, member: symbol): void {
    const holder = this.holders.get(group);
    if (holder && holder !== member) {
      throw new SluiceError(
        `memory broker: group ${group} already has an active source (the memory broker has no consumer-group rebalancing)`,
      );
    }
    this.holders.set(group, member);
  }

  leave(group: string, member: symbol): void {
    if (this.holders.get(group) === member) this.holders.delete(group);
  }

  committed(group: string, partition: MemoryPartition): number | undefined {
    return this.groups.get(group)?.get(partitionId(partition));
  }

  commit(group: string, partition: MemoryPartition, nextOffset: number): void {
    let offsets = this.groups.get(group);
    if (!offsets) {
      offsets = new Map();
      this.groups.set(group, offsets);
    }
    offsets.set(partitionId(partition), nextOffset);
    this.trimPartition(partition);
  }

  /** Trims what every group that reads this partition has committed. */
  private trimPartition(partition: MemoryPartition): void {
    const id = partitionId(partition);
    let lowest = Infinity;
    for (const offsets of this.groups.values()) {
      const offset = offsets.get(id);
      if (offset !== undefined) lowest = Math.min(lowest, offset);
    }
    if (lowest !== Infinity) partition.trim(lowest);
  }
}

export function partitionId(partition: MemoryPartition): string {
  return `${partition.topic.name}/${partition.index}`;
}
