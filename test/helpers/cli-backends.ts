import {afterAll, beforeAll, describe, onTestFinished} from 'vitest'

import {backendNames, createServerDatabase} from './backends.js'
import {makeHome} from './cli.js'

/** Environment that points a spawned CLI at one backend: an embedded home, or a server database. */
export interface CliTarget {
  readonly backend: 'embedded' | 'server'
  readonly env: Record<string, string>
}

/**
 * Runs an end-to-end suite once on the embedded database and, when TEST_DATABASE_URL is
 * set, once on a database of its own on the Postgres server.
 */
export function describeEachCliBackend(name: string, suite: (target: () => CliTarget) => void): void {
  for (const backend of backendNames()) {
    describe(`${name} [${backend === 'pglite' ? 'embedded' : 'server'}]`, () => {
      let target: CliTarget | undefined
      let drop: (() => Promise<void>) | undefined
      beforeAll(async () => {
        if (backend === 'pglite') {
          target = {backend: 'embedded', env: {SYNTHEX_HOME: await makeHome()}}
          return
        }

        // A copy of the run's migrated template: `db migrate` itself is tested where it is
        // the subject (test/e2e/choosing-a-database.test.ts), not paid for by every suite.
        const server = await createServerDatabase({migrated: true})
        drop = server.drop
        target = {backend: 'server', env: {DATABASE_URL: server.url}}
      })
      afterAll(async () => {
        await drop?.()
      })
      suite(() => {
        if (!target) throw new Error('no CLI target')
        return target
      })
    })
  }
}

/**
 * A database of its own for one test, on the suite's backend: for a test whose figures must
 * not see what other tests of the suite left (an embedded home copied from the template, or
 * a server database cloned from the migrated template, dropped when the test ends).
 */
export async function ownTarget(like: CliTarget): Promise<CliTarget> {
  if (like.backend === 'embedded') return {backend: 'embedded', env: {SYNTHEX_HOME: await makeHome()}}
  const server = await createServerDatabase({migrated: true})
  onTestFinished(() => server.drop())
  return {backend: 'server', env: {DATABASE_URL: server.url}}
}
