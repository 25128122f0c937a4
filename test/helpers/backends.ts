import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {PGlite} from '@electric-sql/pglite'
import {Kysely} from 'kysely'
import pg from 'pg'
import {afterAll, beforeAll, describe, inject, onTestFinished} from 'vitest'

import {type BulkSession, embeddedBulkSession} from '../../src/db/bulk-session.js'
import {openDatabase, type OpenDatabase} from '../../src/db/open-database.js'
import {PGliteDialect} from '../../src/db/pglite-dialect.js'
import type {Db} from '../../src/db/schema.js'

export type BackendName = 'pglite' | 'postgres'

const BACKEND_WORDS: Record<string, BackendName> = {embedded: 'pglite', pglite: 'pglite', postgres: 'postgres', server: 'postgres'}

/**
 * The backends the per-backend suites loop over. TEST_BACKENDS names them (`embedded`,
 * `server`, or both, comma-separated); without it, the embedded database always and the
 * Postgres server too when TEST_DATABASE_URL is set. `.ci/run` runs the suite once with
 * neither set, as the README's test line does, and once with TEST_BACKENDS=server.
 */
export function backendNames(): BackendName[] {
  const chosen = process.env.TEST_BACKENDS
  if (!chosen) return process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']
  const names = chosen.split(',').map((word) => {
    const name = BACKEND_WORDS[word.trim()]
    if (!name) throw new Error(`TEST_BACKENDS: "${word}" is not a backend; use embedded, server or both (embedded,server)`)
    return name
  })
  return [...new Set(names)]
}

export interface TestDatabase {
  readonly backend: BackendName
  /** One reserved connection for bulk work, as `OpenDatabase.bulk` gives the CLI. */
  bulk<T>(work: (session: BulkSession) => Promise<T>): Promise<T>
  close(): Promise<void>
  readonly db: Db
  /** For postgres: the URL of this suite's own database, for spawning the CLI against it. */
  readonly url: string | undefined
}

/** A fresh in-memory PGlite, migrated (loaded from the template built by global-setup). */
export async function pgliteDatabase(): Promise<TestDatabase> {
  const template = readFileSync(inject('pgliteTemplate'))
  const client = await PGlite.create({loadDataDir: new Blob([template])})
  const db = new Kysely<never>({dialect: new PGliteDialect(client)}) as unknown as Db
  const session = embeddedBulkSession(client, db)
  return {
    backend: 'pglite',
    bulk: (work) => work(session),
    async close() {
      await db.destroy()
      await client.close()
    },
    db,
    url: undefined,
  }
}

/** Admin connection to the server named by TEST_DATABASE_URL. */
function adminUrl(): string {
  const url = process.env.TEST_DATABASE_URL
  if (!url) throw new Error('TEST_DATABASE_URL is not set')
  return url
}

/**
 * Creates a database of its own on the Postgres server, empty or (`migrated`) a copy of the
 * run's migrated template; returns its URL and a way to drop it.
 */
export async function createServerDatabase(options: {migrated?: boolean} = {}): Promise<{drop(): Promise<void>; url: string}> {
  const name = `synthex_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({connectionString: adminUrl()})
  await admin.connect()
  try {
    await admin.query(options.migrated ? `create database ${name} template ${inject('serverTemplate')}` : `create database ${name}`)
  } finally {
    await admin.end()
  }

  const url = new URL(adminUrl())
  url.pathname = `/${name}`
  return {
    async drop() {
      const client = new pg.Client({connectionString: adminUrl()})
      await client.connect()
      try {
        await client.query(`drop database if exists ${name} with (force)`)
      } finally {
        await client.end()
      }
    },
    url: url.toString(),
  }
}

/** A fresh, migrated database on the server, opened through synthex's own opening code. */
export async function postgresDatabase(): Promise<TestDatabase> {
  const server = await createServerDatabase({migrated: true})
  let opened: OpenDatabase
  try {
    opened = await openDatabase({kind: 'server', setting: 'TEST_DATABASE_URL', url: server.url}, {command: 'test'})
  } catch (error) {
    await server.drop()
    throw error
  }

  return {
    backend: 'postgres',
    bulk: (work) => opened.bulk(work),
    async close() {
      await opened.close()
      await server.drop()
    },
    db: opened.db,
    url: server.url,
  }
}

export async function testDatabase(backend: BackendName): Promise<TestDatabase> {
  return backend === 'pglite' ? pgliteDatabase() : postgresDatabase()
}

/**
 * A database of its own for one test, closed (and on the server dropped) when the test
 * ends: for a test about the whole database (a rekey, a count of everything pending) that
 * must not see what the suite's other tests left.
 */
export async function ownDatabase(backend: BackendName): Promise<TestDatabase> {
  const own = await testDatabase(backend)
  onTestFinished(() => own.close())
  return own
}

/**
 * Runs the same suite once per backend, each with a database of its own for the suite.
 * `database()` returns it inside tests and hooks.
 */
export function describeEachBackend(name: string, suite: (database: () => TestDatabase, backend: BackendName) => void): void {
  for (const backend of backendNames()) {
    describe(`${name} [${backend}]`, () => {
      let current: TestDatabase | undefined
      beforeAll(async () => {
        current = await testDatabase(backend)
      })
      afterAll(async () => {
        await current?.close()
      })
      suite(() => {
        if (!current) throw new Error(`the ${backend} test database is not open`)
        return current
      }, backend)
    })
  }
}

/**
 * A suite about the Postgres server itself (locks another process holds, sslmode, `db
 * migrate` on a server). Like describeEachBackend, it exists only where its backend does:
 * the PGlite-only run of `npm test` has no server to test.
 */
export function describeOnServer(name: string, suite: () => void): void {
  if (backendNames().includes('postgres')) describe(name, suite)
}

/** A suite about the embedded database (the package's first run, the README's tour): left out of a run on the server only. */
export function describeOnEmbedded(name: string, suite: () => void): void {
  if (backendNames().includes('pglite')) describe(name, suite)
}
