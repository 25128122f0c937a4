import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {PGlite} from '@electric-sql/pglite'
import {Kysely} from 'kysely'
import pg from 'pg'
import {afterAll, beforeAll, describe, inject} from 'vitest'

import {type BulkSession, embeddedBulkSession} from '../../src/db/bulk-session.js'
import {openDatabase, type OpenDatabase} from '../../src/db/open-database.js'
import {PGliteDialect} from '../../src/db/pglite-dialect.js'
import type {Db} from '../../src/db/schema.js'

export type BackendName = 'pglite' | 'postgres'

/** PGlite always; the Postgres server too when TEST_DATABASE_URL is set (as `.ci/run` does). */
export function backendNames(): BackendName[] {
  return process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite']
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

/** Creates an empty database of its own on the Postgres server; returns its URL and a way to drop it. */
export async function createServerDatabase(): Promise<{drop(): Promise<void>; url: string}> {
  const name = `synthex_test_${process.pid}_${randomBytes(4).toString('hex')}`
  const admin = new pg.Client({connectionString: adminUrl()})
  await admin.connect()
  try {
    await admin.query(`create database ${name}`)
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

/** A fresh database on the server, migrated through synthex's own opening code. */
export async function postgresDatabase(): Promise<TestDatabase> {
  const server = await createServerDatabase()
  let opened: OpenDatabase
  try {
    opened = await openDatabase({kind: 'server', setting: 'TEST_DATABASE_URL', url: server.url}, {command: 'test', migrations: 'ignore'})
    const {migrateToLatest} = await import('../../src/db/migrations.js')
    await migrateToLatest(opened.db)
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
