/**
 * Heap bytes Sluice holds per event in its hands (queued, set aside, in a worker) beyond the
 * payload: measured from the real core by measure-overhead.ts (memory broker, 200,000 queued
 * events, Node 24.21: 156 B with 1 KiB payloads, 170 B with 100 B payloads; the MemoryEvent,
 * its queue slot and its offset-tracker ticket). Kafka, Kinesis and Pub/Sub events carry their
 * client's record objects too, so for them this is a lower bound.
 */
export const EVENT_OVERHEAD_BYTES = 160;
