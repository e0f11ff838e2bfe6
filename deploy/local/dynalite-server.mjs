// Dynalite (in-memory DynamoDB, for Kinesis lease tables) on loopback.
// Usage: node dynalite-server.mjs [port]
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite');
const port = Number(process.argv[2] ?? 4569);

// Tables become ACTIVE at once; the store is memory only (no LevelDB native module needed).
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(port, '127.0.0.1', () => console.log(`dynalite listening on http://127.0.0.1:${port}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
