import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The product's tests, and the local stack's own (its package runs them alone: `npm test --prefix local`).
    include: ['tests/**/*.test.ts', 'local/tests/**/*.test.ts'],
    // End-to-end files each start a whole stack (detector included) in a child process.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
