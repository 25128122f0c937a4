import {defineConfig} from 'vitest/config'

/**
 * Three projects: `unit` (pure logic, no build, no database: `npm run test:unit` runs it
 * alone in seconds), `integration` (services against PGlite and a Postgres server) and `e2e`
 * (the built CLI as spawned processes, and the package). The last two share one global setup
 * (test/global-setup.ts: the PGlite template, the server probe, the packed tarballs), done
 * once a run whichever of them run. `npm test` runs all three.
 */
const DATABASE_PROJECT = {globalSetup: ['test/global-setup.ts']}

/**
 * Files about the embedded database alone (its lock, its files' permissions, its shared server). A run on the
 * server only (TEST_BACKENDS=server, as `.ci/run`'s second run) leaves them out; every
 * other file has tests on whichever backends run (test/helpers/backends.ts).
 */
const EMBEDDED_ONLY = [
  'test/e2e/embedded-database.test.ts',
  'test/e2e/private-home.test.ts',
  'test/e2e/shared-embedded-database.test.ts',
  'test/integration/private-home.test.ts',
  'test/integration/shared-session.test.ts',
]
const serverOnly = process.env.TEST_BACKENDS !== undefined && !process.env.TEST_BACKENDS.split(',').some((name) => ['embedded', 'pglite'].includes(name.trim()))

export default defineConfig({
  test: {
    hookTimeout: 120_000,
    // Each file gets its own databases; two workers keep a 2-core CI machine busy without
    // starving the Postgres server and the spawned CLI processes.
    maxWorkers: 2,
    // PGlite's WebAssembly compiled by the baseline compiler only, as embedded commands do
    // (src/db/open-database.ts): optimising it on other threads costs the 2 cores more than
    // it saves (integration tests 38 s -> 26 s).
    execArgv: ['--liftoff-only'],
    projects: [
      {extends: true, test: {include: ['test/unit/**/*.test.ts'], name: 'unit'}},
      {extends: true, test: {...DATABASE_PROJECT, exclude: serverOnly ? EMBEDDED_ONLY : [], include: ['test/integration/**/*.test.ts'], name: 'integration'}},
      {extends: true, test: {...DATABASE_PROJECT, exclude: serverOnly ? EMBEDDED_ONLY : [], include: ['test/e2e/**/*.test.ts'], name: 'e2e'}},
    ],
    testTimeout: 60_000,
  },
})
