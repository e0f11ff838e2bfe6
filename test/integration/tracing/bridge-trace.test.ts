// One event's trace across a Kafka → Pub/Sub bridge: a producer (this test, with the
// OpenTelemetry SDK) writes events to a Kafka topic; Sluice #1 (`sluice run`, Kafka source,
// handler.forward to a Pub/Sub topic) bridges them; Sluice #2 (`sluice run`, Pub/Sub source on a
// subscription of that topic) consumes them. Producer and both Sluices export to the OTLP/HTTP
// receiver of this test. What users rely on: the event's spans from both processes are in the
// producer's trace, each a child of the hop before (the forward publishes the bridge's span as
// the traceparent), a producer's "not sampled" holds across the bridge, and an event that came
// without a trace context starts one trace that the consumer continues. No timing assertions.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kafkaConfigSchema } from '../../../adapters/kafka/config.ts';
import { pubsubConfigSchema } from '../../../adapters/pubsub/config.ts';
import { formatTraceparent, parseTraceparent } from '../../../src/tracing/propagation.ts';
import { freePort, spawnSluice, type SluiceProcess } from '../../sluice-cli.ts';
import { createDestination, produce } from '../bridge/bridge-harness.ts';
import { describeWithBroker, uniqueName } from '../brokers.ts';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
import { formatTrace } from './span-tree.ts';

/** The three events: 0 carries the producer's sampled traceparent, 1 a not-sampled one, 2 none. */
const SAMPLED = 0;
const NOT_SAMPLED = 1;
const NO_CONTEXT = 2;
const UNSAMPLED_TRACE = '7d3c0a5e9b1f4a2c8e6d4b2a0f1e3c5d';
const UNSAMPLED_PARENT = '3a5c7e9b1d2f4a6c';

const CONSUMER = 5;
const PRODUCER = 4;

/** What the consumer's handler (bridge-recorder.mjs) saw of one event. */
interface Consumed {
  n: number;
  traceparent: string | null;
  traceId: string | null;
  spanId: string | null;
  recording: boolean;
}

/** Polls `probe` until it returns a value; `failed` says why to give up early (a child exited). */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  failed: () => string | undefined,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    const reason = failed();
    if (reason !== undefined) throw new Error(`${reason} while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describeWithBroker('kafka', 'tracing across a Kafka → Pub/Sub bridge', (kafka) => {
  describeWithBroker('pubsub', 'emulator', (pubsub) => {
    const receiver = new OtlpReceiver();
    const running = new Set<SluiceProcess>();
    let dir: string;
    let from: string;
    let subscription: string;
    let producerSpanId: string;
    let producerTrace: string;
    let spans: ReceivedSpan[];
    let records: Consumed[];

    /** Stops a child by its pid; SIGTERM is a graceful stop, which exports the spans still buffered. */
    const stop = async (sluice: SluiceProcess, signal: NodeJS.Signals) => {
      if (sluice.child.exitCode === null && sluice.child.signalCode === null) process.kill(sluice.child.pid!, signal);
      const code = await sluice.exited;
      running.delete(sluice);
      return code;
    };

    beforeAll(async () => {
      const endpoint = await receiver.start();
      dir = await mkdtemp(join(tmpdir(), 'sluice-bridge-trace-'));
      from = uniqueName('orders');
      const to = uniqueName('orders-bridged');
      subscription = `${to}-sub`;
      const kafkaRaw = { brokers: kafka.brokers, topics: [from], group: uniqueName('bridge-trace'), fetch: { maxWaitTimeMs: 100 } };
      const pubsubRaw = { endpoint: pubsub.emulatorHost, projectId: pubsub.projectId, createResources: true };
      const source = { type: 'kafka', section: kafkaConfigSchema.parse(kafkaRaw) };
      await createDestination(source, from, 2);
      // The subscription exists before the first forward: Pub/Sub keeps only what comes after it.
      await createDestination({ type: 'pubsub', section: pubsubConfigSchema.parse({ ...pubsubRaw, topic: to, subscription }) }, to);

      // The producer: a span of its own, exported to the same receiver, whose context the
      // sampled event carries.
      const producer = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': 'checkout' }),
        spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: endpoint }))],
      });
      const span = producer.getTracer('checkout').startSpan(`${from} publish`, {
        kind: SpanKind.PRODUCER,
        attributes: { 'messaging.system': 'kafka', 'messaging.destination.name': from, 'messaging.operation.type': 'send' },
      });
      ({ traceId: producerTrace, spanId: producerSpanId } = span.spanContext());
      const headers = (n: number): Record<string, string> => {
        if (n === SAMPLED) return { traceparent: formatTraceparent(producerTrace, producerSpanId, 1) };
        if (n === NOT_SAMPLED) return { traceparent: formatTraceparent(UNSAMPLED_TRACE, UNSAMPLED_PARENT, 0) };
        return {};
      };
      await produce(source, from, 3, { keys: 3, headers });
      span.end();
      await producer.shutdown();

      const common = { log: { level: 'warn', summaryIntervalMs: 0 } };
      const tracing = (serviceName: string) => ({ enabled: true, sampleRatio: 1, endpoint, serviceName });
      const [bridgeMetrics, consumerMetrics] = [await freePort(), await freePort()];
      const bridge = {
        ...common,
        broker: { type: 'kafka', kafka: kafkaRaw },
        handler: { forward: { broker: { type: 'pubsub', pubsub: pubsubRaw }, destination: to } },
        metrics: { host: '127.0.0.1', port: bridgeMetrics },
        tracing: tracing('orders-bridge'),
      };
      const consumer = {
        ...common,
        broker: { type: 'pubsub', pubsub: { ...pubsubRaw, topic: to, subscription } },
        handler: { module: join(import.meta.dirname, 'bridge-recorder.mjs'), retry: { maxAttempts: 1 } },
        metrics: { host: '127.0.0.1', port: consumerMetrics },
        tracing: tracing('orders-consumer'),
      };
      await writeFile(join(dir, 'bridge.json'), JSON.stringify(bridge));
      await writeFile(join(dir, 'consumer.json'), JSON.stringify(consumer));
      const recordFile = join(dir, 'records.jsonl');
      const started = [
        spawnSluice(['run', '--config', join(dir, 'consumer.json')], { env: { SPAN_RECORD_FILE: recordFile } }),
        spawnSluice(['run', '--config', join(dir, 'bridge.json')]),
      ];
      for (const sluice of started) running.add(sluice);
      const [consumerProcess, bridgeProcess] = started as [SluiceProcess, SluiceProcess];

      const read = async () =>
        (await readFile(recordFile, 'utf8').catch(() => ''))
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Consumed);
      const exited = () => {
        const gone = started.find((sluice) => sluice.child.exitCode !== null || sluice.child.signalCode !== null);
        return gone && `a sluice exited (${gone.child.exitCode ?? gone.child.signalCode})`;
      };
      records = await until(
        'the 3 events at the consumer',
        async () => {
          const seen = await read();
          return new Set(seen.map((consumed) => consumed.n)).size >= 3 ? seen : undefined;
        },
        exited,
      ).catch((error: Error) => {
        throw new Error(
          `${error.message}\nbridge: ${bridgeProcess.output.stderr.slice(-2000)}\nconsumer: ${consumerProcess.output.stderr.slice(-2000)}`,
        );
      });

      expect(await stop(bridgeProcess, 'SIGTERM'), `bridge exit (stderr: ${bridgeProcess.output.stderr.slice(-2000)})`).toBe(0);
      expect(await stop(consumerProcess, 'SIGTERM'), `consumer exit (stderr: ${consumerProcess.output.stderr.slice(-2000)})`).toBe(0);
      spans = receiver.spans;
      console.log(`the sampled event's trace:\n${formatTrace(spans, producerTrace)}`);
      const ownTrace = records.find((record) => record.n === NO_CONTEXT)?.traceId;
      if (ownTrace) console.log(`the event that came without a trace context:\n${formatTrace(spans, ownTrace)}`);
    }, 180_000);

    afterAll(async () => {
      for (const sluice of [...running]) await stop(sluice, 'SIGKILL');
      await receiver.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const record = (n: number) => {
      const found = records.find((candidate) => candidate.n === n);
      if (!found) throw new Error(`the consumer saw no event ${n}`);
      return found;
    };
    const span = (spanId: string | null | undefined) => {
      const found = spans.find((candidate) => candidate.spanId === spanId);
      if (!found) throw new Error(`no span ${spanId} was exported; spans: ${spans.map((s) => `${s.name} ${s.spanId}`).join(', ')}`);
      return found;
    };

    it('receives valid OTLP protobuf from the producer and both Sluices', () => {
      expect(receiver.rejected).toEqual([]);
      expect(new Set(spans.map((exported) => exported.resource['service.name']))).toEqual(
        new Set(['checkout', 'orders-bridge', 'orders-consumer']),
      );
    });

    it("puts both Sluices' spans of the sampled event into the producer's trace, each the child of the hop before", () => {
      const consumed = record(SAMPLED);
      // The consumer's handler ran in its event span, a child of what the bridge published.
      expect(consumed.recording).toBe(true);
      const consumerSpan = span(consumed.spanId);
      const published = parseTraceparent(consumed.traceparent ?? undefined);
      expect(published, `the traceparent the consumer received: ${consumed.traceparent}`).toBeDefined();
      const bridgeSpan = span(published!.spanId);

      // The bridge's span continues the producer's: same trace, the producer's span as parent.
      expect(bridgeSpan).toMatchObject({
        traceId: producerTrace,
        parentSpanId: producerSpanId,
        name: `${from} process`,
        kind: CONSUMER,
        resource: { 'service.name': 'orders-bridge' },
      });
      // The forward published the bridge's own span as the traceparent, sampled…
      expect(published).toEqual({ traceId: producerTrace, spanId: bridgeSpan.spanId, flags: 1 });
      // …and the consumer's span is its child, in the same trace.
      expect(consumerSpan).toMatchObject({
        traceId: producerTrace,
        parentSpanId: bridgeSpan.spanId,
        name: `${subscription} process`,
        kind: CONSUMER,
        resource: { 'service.name': 'orders-consumer' },
      });
      // The consumer's handler span nests under the consumer's event span.
      const trace = spans.filter((exported) => exported.traceId === producerTrace);
      expect(trace.filter((exported) => exported.parentSpanId === consumerSpan.spanId).map((exported) => exported.name)).toEqual([
        'store order',
      ]);
      // The whole trace: the producer's span, one span per Sluice, the handler's span.
      expect(trace.map((exported) => exported.name).sort()).toEqual(
        [`${from} publish`, `${from} process`, `${subscription} process`, 'store order'].sort(),
      );
      expect(span(producerSpanId).kind).toBe(PRODUCER);
    });

    it('says which broker and which topic or subscription each hop read, and that both processed the event', () => {
      const consumed = record(SAMPLED);
      const bridgeSpan = span(parseTraceparent(consumed.traceparent ?? undefined)?.spanId);
      expect(bridgeSpan.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': from,
        'sluice.outcome': 'processed',
      });
      expect(String(bridgeSpan.attributes['messaging.destination.partition.id'])).toMatch(new RegExp(`^${from}/[01]$`));
      expect(span(consumed.spanId).attributes).toMatchObject({
        'messaging.system': 'gcp_pubsub',
        'messaging.operation.type': 'process',
        'messaging.destination.name': subscription,
        'messaging.destination.partition.id': subscription,
        'sluice.outcome': 'processed',
      });
      for (const eventSpan of [bridgeSpan, span(consumed.spanId)]) {
        expect(eventSpan.status.code).not.toBe(2);
        expect(eventSpan.events.map((event) => event.name)).toEqual(['handler.start']);
      }
    });

    it("keeps the producer's not-sampled decision across the bridge: no span, the traceparent passed on as it came", () => {
      expect(spans.filter((exported) => exported.traceId === UNSAMPLED_TRACE)).toEqual([]);
      const consumed = record(NOT_SAMPLED);
      expect(consumed.traceparent).toBe(formatTraceparent(UNSAMPLED_TRACE, UNSAMPLED_PARENT, 0));
      expect(consumed.recording).toBe(false);
      expect(consumed.traceId).toBe(UNSAMPLED_TRACE);
    });

    it('traces an event that came without a trace context in one new trace that the consumer continues', () => {
      const consumed = record(NO_CONTEXT);
      const published = parseTraceparent(consumed.traceparent ?? undefined);
      expect(published, 'the bridge wrote a traceparent').toBeDefined();
      const bridgeSpan = span(published!.spanId);
      expect(bridgeSpan).toMatchObject({ name: `${from} process`, parentSpanId: '', traceId: published!.traceId });
      expect(bridgeSpan.traceId).not.toBe(producerTrace);
      expect(span(consumed.spanId)).toMatchObject({ traceId: bridgeSpan.traceId, parentSpanId: bridgeSpan.spanId });
    });
  });
});
