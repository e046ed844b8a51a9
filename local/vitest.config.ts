import { defineConfig } from 'vitest/config';

// `npm test --prefix local`: the local stack's own tests. The root's `npm test` runs them too.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Some start stand-ins (the detector, dynalite, s3rver) for real.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
