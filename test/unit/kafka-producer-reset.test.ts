// An idempotent producer whose sequence state no longer matches the brokers' fails every later
// send the same way (seen in the drill after a cut link: OUT_OF_ORDER_SEQUENCE_NUMBER for
// minutes). The publisher core must drop that producer so the next publish gets a new one.
import { describe, expect, it } from 'vitest';
import { kafkaConfigSchema } from '../../adapters/kafka/config.ts';
import { KafkaPublisherCore } from '../../adapters/kafka/kafka-publisher-core.ts';
import { producerStateLost } from '../../adapters/kafka/protocol-errors.ts';
import type { OutgoingEvent } from '../../src/broker/contract.ts';
import { SluiceError } from '../../src/errors.ts';

const outOfOrder = () =>
  Object.assign(new Error('The broker received an out of order sequence number'), { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });

/** A client binding that records how often a producer was opened, and fails sends as told. */
class Binding extends KafkaPublisherCore {
  opened = 0;
  closed = 0;
  failNext: (() => Error) | undefined;
  protected async openProducer(): Promise<void> {
    this.opened++;
  }
  protected async send(_destination: string, _chunk: readonly OutgoingEvent[]): Promise<void> {
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail) throw fail();
  }
  protected async closeProducer(): Promise<void> {
    this.closed++;
  }
  protected toSluiceError(error: unknown, what: string): SluiceError {
    return new SluiceError(`${what}: ${(error as Error).message}`, { retriable: true, cause: error });
  }
}

const config = () => kafkaConfigSchema.parse({ brokers: ['127.0.0.1:1'], topics: ['t'], ssl: false });
const event: OutgoingEvent = { payload: Buffer.from('x') };

describe('Kafka publisher after a lost producer state', () => {
  it('recognises the error however the client wraps it', () => {
    expect(producerStateLost(outOfOrder())).toBe(true);
    expect(producerStateLost(Object.assign(new Error('retries'), { cause: outOfOrder() }))).toBe(true);
    expect(producerStateLost({ errors: [{ apiId: 'UNKNOWN_PRODUCER_ID' }] })).toBe(true);
    expect(producerStateLost(Object.assign(new Error('x'), { type: 'REQUEST_TIMED_OUT' }))).toBe(false);
    expect(producerStateLost(undefined)).toBe(false);
  });

  it('fails that publish (retriable) and connects a new producer for the next one', async () => {
    const publisher = new Binding(config());
    await publisher.publish('t', [event]);
    expect(publisher.opened).toBe(1);
    publisher.failNext = outOfOrder;
    const error = await publisher.publish('t', [event]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).retriable).toBe(true);
    expect((error as Error).message).toContain('new producer');
    expect(publisher.closed).toBe(1);
    await publisher.publish('t', [event]);
    expect(publisher.opened).toBe(2);
  });

  it('keeps its producer after other failures', async () => {
    const publisher = new Binding(config());
    publisher.failNext = () => Object.assign(new Error('timed out'), { type: 'REQUEST_TIMED_OUT' });
    await publisher.publish('t', [event]).catch(() => undefined);
    await publisher.publish('t', [event]);
    expect(publisher.opened).toBe(1);
    expect(publisher.closed).toBe(0);
  });
});
