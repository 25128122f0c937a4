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
/**
 * Files that touch no database at all (argument parsing, help, startup, the README's text,
 * TLS to an SMTP server, outbound requests): a run on the server only leaves them, and the
 * unit project, to the run that has them already.
 */
const NO_DATABASE = [
  'test/e2e/completion.test.ts',
  'test/e2e/readme-figures.test.ts',
  'test/e2e/smtp-tls.test.ts',
  'test/e2e/startup.test.ts',
  'test/e2e/usage-errors.test.ts',
  'test/integration/command-lines.test.ts',
  'test/integration/google-verifier.test.ts',
  'test/integration/outbound-request.test.ts',
  'test/integration/readme-reference.test.ts',
]
const serverOnly = process.env.TEST_BACKENDS !== undefined && !process.env.TEST_BACKENDS.split(',').some((name) => ['embedded', 'pglite'].includes(name.trim()))

export default defineConfig({
  test: {
    hookTimeout: 120_000,
    // Each file gets its own databases. Three workers on a 2-core CI machine: a worker spends
    // much of its time waiting on the CLI processes it spawns and on the database, and with
    // two the cores sat idle a fifth of the time (user + sys 30 min over 19 min on 2 cores).
    maxWorkers: 3,
    // PGlite's WebAssembly compiled by the baseline compiler only, as embedded commands do
    // (src/db/open-database.ts): optimising it on other threads costs the 2 cores more than
    // it saves (integration tests 38 s -> 26 s).
    execArgv: ['--liftoff-only'],
    projects: [
      ...(serverOnly ? [] : [{extends: true as const, test: {include: ['test/unit/**/*.test.ts'], name: 'unit'}}]),
      {extends: true, test: {...DATABASE_PROJECT, exclude: serverOnly ? [...EMBEDDED_ONLY, ...NO_DATABASE] : [], include: ['test/integration/**/*.test.ts'], name: 'integration'}},
      {extends: true, test: {...DATABASE_PROJECT, exclude: serverOnly ? [...EMBEDDED_ONLY, ...NO_DATABASE] : [], include: ['test/e2e/**/*.test.ts'], name: 'e2e'}},
    ],
    testTimeout: 60_000,
  },
})
