import { configDefaults, defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// One command runs both projects: `npm test`. Unit tests need nothing outside the process;
// integration tests talk to real brokers on 127.0.0.1, which the integration global setup
// starts (and stops again) when they are not already running.
const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  test: {
    root,
    projects: [
      {
        test: {
          name: 'unit',
          root,
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          root,
          include: ['test/integration/**/*.test.ts'],
          // The crash scenarios (SIGKILL, outages, handoffs) run in CI through the crash-restart
          // harness (`npm run crash-restart -- --quick`, one table); `npm run test:crash` runs the
          // same scenarios as vitest tests. Running them here too would double CI's longest step.
          // The ordered Pub/Sub SIGKILL test is the harness's `sigkill x3` ordered rows too.
          exclude: [...configDefaults.exclude, 'test/integration/crash/**', 'test/integration/pubsub/ordered-crash.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Suites share real brokers; running files one at a time keeps a 2-core machine honest.
          fileParallelism: false,
        },
      },
    ],
  },
});
