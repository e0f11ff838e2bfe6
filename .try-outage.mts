import { brokerOutage } from './test/crash/outage.ts';
const targets = (process.env.TARGETS ?? 'kafkajs').split(',') as any;
const rows = await brokerOutage({ size: (process.env.SIZE ?? 'full') as any, targets, log: (m) => console.log(new Date().toISOString().slice(11, 19), m) });
console.table(rows.map((r) => ({ broker: r.broker, events: r.events, lost: r.lost, dup: r.duplicates, bound: r.bounds?.duplicatesMax, drainMs: r.drainMs, notes: r.notes })));
process.exit(0);
