// Kinesis' delivery (polling consumer). Mirrors adapters/kinesis/shard-consumer.ts
// ShardConsumer.run (per shard: wait for room at the gate, GetRecords, deliver the records in
// parts of sink.maxBatch through the gate, awaited, then the next call),
// adapters/kinesis/shard-reader.ts PollingShardReader.next (calls start at least pollIntervalMs
// apart; Limit = min(maxRecords, sink.maxBatch); a throttled call backs off from
// throttleBackoffMs, doubling up to 10 s, reset by a success) and
// src/source-kit/delivery-lane.ts DeliveryLane (deliveries of all shards one at a time in FIFO
// order; room(): a shard reads again only while fewer than max(maxBatch, queue.maxEvents) events
// wait at the gate).
// Kinesis' limits (AWS documentation, "Kinesis Data Streams quotas"): reads, 5 GetRecords calls
// per second per shard (pollIntervalMs ≥ 200 keeps to it) and 2 MB/s per shard: a call returning
// B bytes uses the shard's read allowance for B / 2 MB/s, and a call before that is throttled
// (ProvisionedThroughputExceededException). Writes: 1,000 records/s and 1 MB/s per shard
// (broker-log.ts WriteLimit; producer-side delay). Emulators (kinesalite) enforce none of these:
// `--model kinesisLimits=false`.
// Simplified: one consumer holds every lease; GetRecords returns what was appended by the time
// of the call; a call takes `latency` (request + answer); iterator expiry is not modelled.
import type { DeliveryModel, Engine } from './engine.ts';

export interface KinesisParams {
  pollInterval: number;
  /** GetRecords Limit before maxBatch lowers it (consumer.maxRecords). */
  maxRecords: number;
  throttleBackoff: number;
  /** Time of one GetRecords call (s). */
  latency: number;
  /** Read bytes per second per shard; 0: no limit. */
  readBytesPerSecond: number;
  messageSize: number;
}

enum State {
  Room,
  Call,
  Answer,
  Deliver,
  WaitRoom,
}

export class KinesisDelivery implements DeliveryModel {
  nextAt = 0;
  private readonly at: Float64Array;
  private readonly state: Uint8Array;
  private readonly lastCall: Float64Array;
  private readonly allowanceAt: Float64Array;
  private readonly backoff: Float64Array;
  private readonly answers: (number[] | undefined)[];
  /** Calls throttled by the read limit. */
  throttled = 0;

  constructor(
    private readonly engine: Engine,
    private readonly params: KinesisParams,
  ) {
    const shards = engine.broker.partitions.length;
    this.at = new Float64Array(shards);
    this.state = new Uint8Array(shards);
    this.lastCall = new Float64Array(shards).fill(Number.NEGATIVE_INFINITY);
    this.allowanceAt = new Float64Array(shards);
    this.backoff = new Float64Array(shards).fill(params.throttleBackoff);
    this.answers = new Array(shards).fill(undefined);
  }

  act(t: number): void {
    for (let shard = 0; shard < this.at.length; shard++) if (this.at[shard]! <= t) this.step(shard, t);
    this.updateNext();
  }

  accepted(t: number, lane: number): void {
    this.step(lane, t);
    // Room at the gate may have come back for shards waiting on it.
    for (let shard = 0; shard < this.at.length; shard++) if (this.state[shard] === State.WaitRoom) this.step(shard, t);
    this.updateNext();
  }

  private step(shard: number, t: number): void {
    const { engine, params } = this;
    for (;;) {
      switch (this.state[shard]) {
        case State.WaitRoom:
        case State.Room: {
          if (engine.gateWaiting >= Math.max(engine.maxBatch, engine.options.queue.maxEvents)) {
            this.state[shard] = State.WaitRoom;
            this.at[shard] = Number.POSITIVE_INFINITY;
            return;
          }
          this.state[shard] = State.Call;
          this.at[shard] = Math.max(t, this.lastCall[shard]! + params.pollInterval);
          if (this.at[shard]! > t) return;
          break;
        }
        case State.Call: {
          this.lastCall[shard] = t;
          if (t < this.allowanceAt[shard]!) {
            this.throttled++;
            this.state[shard] = State.Room;
            this.at[shard] = t + params.latency + this.backoff[shard]!;
            this.backoff[shard] = Math.min(10, this.backoff[shard]! * 2);
            return;
          }
          this.backoff[shard] = params.throttleBackoff;
          const broker = engine.broker;
          broker.appendUntil(t);
          const limit = Math.max(1, Math.min(params.maxRecords, engine.maxBatch));
          const count = Math.min(broker.readable(shard, t), limit);
          if (params.readBytesPerSecond > 0 && count > 0) {
            this.allowanceAt[shard] = Math.max(this.allowanceAt[shard]!, t) + (count * params.messageSize) / params.readBytesPerSecond;
          }
          this.answers[shard] = count > 0 ? engine.read(shard, count) : undefined;
          this.state[shard] = State.Answer;
          this.at[shard] = t + params.latency;
          return;
        }
        case State.Answer: {
          const records = this.answers[shard];
          this.answers[shard] = undefined;
          this.state[shard] = State.Room;
          // Limit ≤ maxBatch, so an answer is one part.
          if (records && !engine.deliver(records, shard, t)) {
            this.state[shard] = State.Deliver;
            this.at[shard] = Number.POSITIVE_INFINITY;
            return;
          }
          break;
        }
        case State.Deliver:
          this.state[shard] = State.Room;
          break;
      }
    }
  }

  private updateNext(): void {
    let next = Number.POSITIVE_INFINITY;
    for (let shard = 0; shard < this.at.length; shard++) next = Math.min(next, this.at[shard]!);
    this.nextAt = next;
  }
}
