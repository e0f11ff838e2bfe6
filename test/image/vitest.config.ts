import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `npm run image:test`: the container image's run test, apart from `npm test` because it needs an
// image built by `npm run image` and a container engine. Its tests share one container, in order.
const root = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  test: {
    name: 'image',
    root,
    include: ['test/image/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    sequence: { concurrent: false },
  },
});
