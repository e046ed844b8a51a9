import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // End-to-end files each start a whole stack (detector included) in a child process.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
