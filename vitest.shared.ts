import { defineConfig } from 'vitest/config';

// vitest 5 under an unsupported Node (20 and older) can crash in its reporter and still exit 0,
// so a broken suite would look green. Refuse up front instead.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (!((major === 22 && minor >= 17) || major === 24 || major >= 26)) {
  console.error(
    `Threadstore's tests need Node 22.17+ or 24 (found ${process.versions.node}). ` +
      'Run them with `bash scripts/test.sh`, which brings Node 24 along.',
  );
  process.exit(1);
}

/** Settings every package's vitest config shares (each package adds its own name). */
export const sharedTestConfig = defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Test files run in parallel, each against its own database cloned from the template.
    pool: 'forks',
    // The JSON report feeds scripts/test-summary.ts, which prints the suite-wide closing line.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest/results.json' },
  },
});
