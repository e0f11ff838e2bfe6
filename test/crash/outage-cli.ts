// Runs the broker-outage scenario by hand and prints its rows:
//   npx tsx test/crash/outage-cli.ts [full|quick] [kafkajs,platformatic,kinesis,pubsub]
// Needs the local brokers for the kinesis and pubsub rows (npm run brokers:up) and Java plus the
// cached Kafka jars for the kafka rows. SLUICE_OUTAGE_KEEP=1 keeps the scratch folder (records,
// Sluice's logs); SLUICE_OUTAGE_LOG=info makes those logs talkative.
import { brokerOutage, OUTAGE_TARGETS, type OutageTarget } from './outage.ts';
import { rowFailures } from './scenario.ts';

const [size = 'full', list] = process.argv.slice(2);
if (size !== 'full' && size !== 'quick') throw new Error(`size must be full or quick, not ${size}`);
const targets = (list?.split(',') ?? OUTAGE_TARGETS) as OutageTarget[];
const rows = await brokerOutage({ size, targets, log: (msg) => console.log(`${new Date().toISOString().slice(11, 19)} ${msg}`) });
console.table(
  rows.map((row) => ({
    scenario: row.scenario,
    broker: row.broker,
    events: row.events,
    lost: row.lost,
    duplicates: row.duplicates,
    bound: row.bounds?.duplicatesMax,
    drainMs: row.drainMs,
    failures: rowFailures(row).join('; '),
    notes: row.notes,
  })),
);
process.exit(rows.some((row) => rowFailures(row).length > 0) ? 1 : 0);
