import {defineConfig} from 'vitest/config'

/**
 * Three projects: `unit` (pure logic, no build, no database: `npm run test:unit` runs it
 * alone in seconds), `integration` (services against PGlite and a Postgres server) and `e2e`
 * (the built CLI as spawned processes, and the package). The last two share one global setup
 * (test/global-setup.ts: the PGlite template, the server probe, the packed tarballs), done
 * once a run whichever of them run. `npm test` runs all three.
 */
const DATABASE_PROJECT = {globalSetup: ['test/global-setup.ts']}

export default defineConfig({
  test: {
    hookTimeout: 120_000,
    // Each file gets its own databases; two workers keep a 2-core CI machine busy without
    // starving the Postgres server and the spawned CLI processes.
    maxWorkers: 2,
    projects: [
      {extends: true, test: {include: ['test/unit/**/*.test.ts'], name: 'unit'}},
      {extends: true, test: {...DATABASE_PROJECT, include: ['test/integration/**/*.test.ts'], name: 'integration'}},
      {extends: true, test: {...DATABASE_PROJECT, include: ['test/e2e/**/*.test.ts'], name: 'e2e'}},
    ],
    testTimeout: 60_000,
  },
})
