import { defineConfig } from 'vitest/config';

// Three tiers; `npm test` runs them all, `npm run test:unit` the first (CONTRIBUTING.md, "Tests").
const slowUnitFiles = [
  // The local stack's servers, driven from the product's side (its own tests are in local/tests).
  'tests/unit/local-*.test.ts',
  // Builds: every function bundled with esbuild, the client compiled with tsc.
  'tests/unit/bundle.test.ts',
  'tests/unit/client-package.test.ts',
  // Bundles every function to see which packages it pulls in.
  'tests/unit/dependencies.test.ts',
];

export default defineConfig({
  test: {
    // End-to-end files each start a whole stack (detector included) in a child process.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          // No stack, no detector, no network but receivers on 127.0.0.1: seconds.
          name: 'unit',
          // Worker threads start faster than the default forked processes (~20% of this tier's time).
          pool: 'threads',
          include: ['tests/unit/**/*.test.ts'],
          exclude: slowUnitFiles,
          // The handlers' Powertools logs; set it to INFO to read them.
          env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
          // A CommonJS module's default import is its module.exports, as in Node (and Lambda):
          // the generated validators rely on it (ajv's runtime helpers export `.default`).
          deps: { interopDefault: false },
        },
      },
      {
        extends: true,
        // Parts of the local stack (DynamoDB, SQS, the bus) started in-process, the local stack's
        // own tests (its package runs them alone: `npm test --prefix local`), and the builds.
        test: { name: 'integration', include: ['tests/integration/**/*.test.ts', 'local/tests/**/*.test.ts', ...slowUnitFiles] },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['tests/e2e/**/*.test.ts'] },
      },
    ],
  },
});
