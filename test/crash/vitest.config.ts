import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run test:crash`: the crash scenarios of test/crash (SIGKILL resume, broker outage, SIGTERM
// handoff, ordered Pub/Sub under SIGKILL on both implementations) as vitest tests, at their quick
// sizes, against the local brokers. CI runs the same scenarios through
// `npm run crash-restart -- --quick` instead, which prints them as one table.
const root = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  test: {
    name: 'crash',
    root,
    include: ['test/integration/crash/**/*.test.ts', 'test/integration/pubsub/ordered-crash.test.ts'],
    globalSetup: ['test/integration/global-setup.ts'],
    testTimeout: 900_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
