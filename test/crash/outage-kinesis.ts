// The Kinesis row of the broker-outage scenario. kinesalite and dynalite keep everything in
// memory, so they are not restarted: toxiproxy sits between Sluice and both (the stream and the
// lease table) and the outage cuts both links at once.
import pino from 'pino';
import { kinesisConfigSchema } from '../../adapters/kinesis/config.ts';
import { KinesisAdapter } from '../../adapters/kinesis/kinesis-adapter.ts';
import { AWS_LOCAL_CREDENTIALS, AWS_REGION, ENDPOINTS } from '../../deploy/local/endpoints.ts';
import type { Toxiproxy } from '../../deploy/local/toxiproxy.ts';
import { freePort } from '../sluice-cli.ts';
import { type OutageOptions, runOutage, uniqueName } from './outage-run.ts';
import { publishNumbered } from './members.ts';
import type { ScenarioRow } from './scenario.ts';

/** An outage cut by toxiproxy between Sluice and the broker. */
export interface ProxiedOutageOptions extends OutageOptions {
  toxiproxy: Toxiproxy;
}

export async function kinesisOutageRow(options: ProxiedOutageOptions): Promise<ScenarioRow> {
  const { toxiproxy } = options;
  const stream = uniqueName('outage');
  const application = uniqueName('outage-app');
  const direct = kinesisConfigSchema.parse({
    stream,
    application,
    region: AWS_REGION,
    endpoint: ENDPOINTS.kinesis.url,
    credentials: AWS_LOCAL_CREDENTIALS,
    leases: { type: 'dynamodb', endpoint: ENDPOINTS.dynamodb.url },
  });
  const adapter = new KinesisAdapter(direct, { logger: pino({ level: 'silent' }) });
  const admin = adapter.createAdmin();
  await admin.createDestination(stream, { partitions: 4 });
  try {
    const publisher = adapter.createPublisher();
    await publishNumbered(publisher, stream, options.events, options.keys, 500);
    await publisher.close();

    const kinesisPort = await freePort();
    const dynamoPort = await freePort();
    await toxiproxy.createProxy({ name: 'outage-kinesis', listen: `127.0.0.1:${kinesisPort}`, upstream: ENDPOINTS.kinesis.address });
    await toxiproxy.createProxy({ name: 'outage-dynamodb', listen: `127.0.0.1:${dynamoPort}`, upstream: ENDPOINTS.dynamodb.address });
    const setLinks = async (enabled: boolean) => {
      await toxiproxy.setEnabled('outage-kinesis', enabled);
      await toxiproxy.setEnabled('outage-dynamodb', enabled);
    };
    return await runOutage({
      broker: 'kinesis (kinesalite)',
      name: 'kinesis',
      dir: options.dir,
      events: options.events,
      outageMs: options.outageMs,
      children: options.children,
      log: options.log,
      entry: options.entry,
      // A user's config: the defaults for leases and checkpoints, through the proxies.
      config: {
        broker: {
          type: 'kinesis',
          kinesis: {
            stream,
            application,
            region: AWS_REGION,
            endpoint: `http://127.0.0.1:${kinesisPort}`,
            credentials: { ...AWS_LOCAL_CREDENTIALS },
            leases: { type: 'dynamodb', endpoint: `http://127.0.0.1:${dynamoPort}` },
          },
        },
        queue: { maxEvents: options.queue },
        pool: { size: options.pool, orderByKey: true },
        deadLetter: { type: 'none' },
      },
      cut: () => setLinks(false),
      restore: () => setLinks(true),
    });
  } finally {
    await admin.deleteDestination(stream).catch(() => undefined);
    await admin.deleteLeaseTable(application).catch(() => undefined);
  }
}
