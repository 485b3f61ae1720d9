import react from '@vitejs/plugin-react';
import { defineConfig, defineProject } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

const { reporters, outputFile, pool } = sharedTestConfig.test ?? {};

/**
 * Two kinds of tests, one report (.vitest/results.json, counted by scripts/test-summary.ts):
 * component tests in a simulated DOM, and end-to-end tests driving Debian's Chromium against the
 * product started as `bash scripts/start.sh` starts it (e2e/global-setup.ts). Neither needs the
 * test PostgreSQL the other packages share: the product brings its own.
 */
export default defineConfig({
  test: {
    reporters,
    outputFile,
    pool,
    projects: [
      defineProject({
        plugins: [react()],
        test: { name: 'web', include: ['src/**/*.test.{ts,tsx}'], environment: 'happy-dom' },
      }),
      defineProject({
        test: {
          name: 'web-e2e',
          include: ['e2e/**/*.e2e.test.ts'],
          globalSetup: ['./e2e/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 240_000,
          // One product, and one browser per file: files run one after another on two cores.
          fileParallelism: false,
        },
      }),
    ],
  },
});
