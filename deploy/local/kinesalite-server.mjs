// Kinesalite (in-memory Kinesis) on loopback. Its CLI listens on every interface and has no
// host flag, so Sluice starts it from code. Usage: node kinesalite-server.mjs [port]
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const kinesalite = require('kinesalite');
const port = Number(process.argv[2] ?? 4567);

// Streams become ACTIVE at once (tests need no polling), and the shard limit covers the
// streams that a whole test run creates in this one in-memory instance.
const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 });
server.listen(port, '127.0.0.1', () => console.log(`kinesalite listening on http://127.0.0.1:${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
