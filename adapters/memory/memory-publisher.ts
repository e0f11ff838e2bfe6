import type { OutgoingEvent, Publisher } from '../../src/broker/contract.ts';
import type { MemoryBroker } from './memory-broker.ts';

/** Publishes into the memory broker; waits while a partition's backlog is full. */
export class MemoryPublisher implements Publisher {
  constructor(
    private readonly broker: MemoryBroker,
    private readonly partitions: number,
  ) {}
  async connect(): Promise<void> {}
  publish(destination: string, events: readonly OutgoingEvent[]): Promise<void> {
    return this.broker.publish(destination, events, this.partitions);
  }
  async close(): Promise<void> {}
}
