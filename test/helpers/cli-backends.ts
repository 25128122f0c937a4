import {afterAll, beforeAll, describe} from 'vitest'

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
