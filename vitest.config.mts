import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'core',
          include: ['test/**/*.test.ts'],
          exclude: ['test/lab/**'],
          // Two files at a time (vitest's default here came out as one: the files ran serially).
          maxWorkers: 2,
          // One real Temporal dev server for the project (test/support/global-setup.ts).
          globalSetup: ['test/support/global-setup.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          // The lab is one shared simulated cluster: its files run one at a time, after the core project.
          globalSetup: ['test/support/global-setup.ts', 'test/support/lab-setup.ts'],
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
