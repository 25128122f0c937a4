import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    hookTimeout: 120_000,
    include: ['test/**/*.test.ts'],
    // Each file gets its own databases; two workers keep a 2-core CI machine busy without
    // starving the Postgres server and the spawned CLI processes.
    maxWorkers: 2,
    testTimeout: 60_000,
  },
})
