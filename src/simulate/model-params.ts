// `--model key=value` (repeatable): the few facts of the delivery path that are not in Sluice's
// config (they belong to the broker, the network or the emulator), with defaults per broker.
import { ConfigError } from '../errors.ts';

export interface ModelParams {
  /** Broker round trip pieces (ms): Kafka one-way fetch latency, one GetRecords call, Pub/Sub publish→client. */
  latencyMs: number;
  /** Kafka partitions / Kinesis shards of the simulated topic or stream (memory: broker.memory.partitions). */
  partitions: number | undefined;
  /** Kinesis: enforce AWS's per-shard limits (false for kinesalite and other emulators). */
  kinesisLimits: boolean;
  /** Pub/Sub: messages per second one StreamingPull stream delivers. */
  pubsubStreamRate: number;
  /** µs of Sluice's event loop per event (measured: simulate:validate's calibration); 0: not modelled. */
  loopUsPerEvent: number;
  /** Kafka: µs of the loop per fetch answer (the client's decode, one long task; measured); 0: not modelled. */
  loopUsPerFetch: number;
  /**
   * Kafka: share of loopUsPerFetch spent before the fetch's records are delivered (the decode,
   * eachBatch; measured by a profile of kafkajs' fetch cycles); the rest runs after the delivery
   * and delays the next request. 1: all of it before.
   */
  loopFetchShareBefore: number;
  /** GC pauses: the chance an event's completion brings one, and the pauses (ms) to draw from; measured. */
  gcPerEvent: number;
  gcPausesMs: number[];
}

const DEFAULT_LATENCY_MS: Record<string, number> = { memory: 0, kafka: 1, kinesis: 10, pubsub: 5 };

export const modelKeys =
  'latencyMs=<ms>, partitions=<n>, kinesisLimits=true|false, pubsubStreamRate=<messages/s per stream>, loopUsPerEvent=<µs>, loopUsPerFetch=<µs>, loopFetchShareBefore=<0..1>, gcPerEvent=<0..1>, gcPausesMs=<ms,ms,…>';

export function parseModelParams(broker: string, values: readonly string[], flag = '--model'): ModelParams {
  const params: ModelParams = {
    latencyMs: DEFAULT_LATENCY_MS[broker] ?? 0,
    partitions: undefined,
    kinesisLimits: true,
    pubsubStreamRate: 2000,
    loopUsPerEvent: 0,
    loopUsPerFetch: 0,
    loopFetchShareBefore: 1,
    gcPerEvent: 0,
    gcPausesMs: [],
  };
  for (const value of values) {
    const at = value.indexOf('=');
    const key = value.slice(0, at).trim();
    const text = value.slice(at + 1).trim();
    const number = Number(text);
    const bad = (why: string): never => {
      throw new ConfigError(flag, `${why} in "${value}"; accepted: ${modelKeys}`);
    };
    if (at <= 0) bad('expected key=value');
    switch (key) {
      case 'latencyMs':
        if (!(number >= 0)) bad('expected a number of ms >= 0');
        params.latencyMs = number;
        break;
      case 'partitions':
        if (!Number.isInteger(number) || number < 1) bad('expected a whole number >= 1');
        params.partitions = number;
        break;
      case 'kinesisLimits':
        if (text !== 'true' && text !== 'false') bad('expected true or false');
        params.kinesisLimits = text === 'true';
        break;
      case 'pubsubStreamRate':
        if (!(number > 0)) bad('expected a rate > 0');
        params.pubsubStreamRate = number;
        break;
      case 'loopUsPerEvent':
        if (!(number >= 0)) bad('expected µs >= 0');
        params.loopUsPerEvent = number;
        break;
      case 'loopUsPerFetch':
        if (!(number >= 0)) bad('expected µs >= 0');
        params.loopUsPerFetch = number;
        break;
      case 'loopFetchShareBefore':
        if (!(number >= 0 && number <= 1)) bad('expected a share 0..1');
        params.loopFetchShareBefore = number;
        break;
      case 'gcPerEvent':
        if (!(number >= 0 && number <= 1)) bad('expected a share 0..1');
        params.gcPerEvent = number;
        break;
      case 'gcPausesMs': {
        const pauses = text.split(',').map(Number);
        if (!pauses.every((p) => p >= 0)) bad('expected ms >= 0, comma-separated');
        params.gcPausesMs = pauses;
        break;
      }
      default:
        bad(`unknown key "${key}"`);
    }
  }
  return params;
}
