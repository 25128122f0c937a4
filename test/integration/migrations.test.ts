import type {Kysely} from 'kysely'
import {describe, expect, it} from 'vitest'

import {MigrationsPendingError} from '../../src/db/database-errors.js'
import {migrateToLatest, migrationStatus, pendingMigrations, readMigrationFiles} from '../../src/db/migrations.js'
import {openDatabase} from '../../src/db/open-database.js'
import {backendNames, createServerDatabase, describeEachBackend, ownDatabase} from '../helpers/backends.js'

describeEachBackend('migrations', (database, backend) => {
  it('reports every shipped migration as applied, and migrating again applies nothing', async () => {
    const {db} = database()
    const names = readMigrationFiles().map((file) => file.name)
    expect(await pendingMigrations(db)).toEqual([])
    expect((await migrationStatus(db)).map((state) => [state.name, state.appliedAt !== null, state.unknown])).toEqual(names.map((name) => [name, true, false]))
    expect(await migrateToLatest(db)).toEqual([])
  })

  it('flags migrations applied by a newer synthex as unknown', async () => {
    // A database of its own: the suite's must stay as this synthex left it.
    const {db} = await ownDatabase(backend)
    await db.insertInto('kysely_migration' as never).values({name: '9999_from_the_future', timestamp: new Date().toISOString()} as never).execute()
    const future = (await migrationStatus(db)).find((state) => state.name === '9999_from_the_future')
    expect(future).toMatchObject({unknown: true})
  })
})

if (backendNames().includes('postgres')) {
  describe('server database migrations [postgres]', () => {
    it('refuses to work on a database with pending migrations until `db migrate` has run', async () => {
      const server = await createServerDatabase()
      try {
        const target = {kind: 'server' as const, setting: 'DATABASE_URL', url: server.url}
        const error = await openDatabase(target, {command: 'test'}).catch((error_: unknown) => error_)
        expect(error).toBeInstanceOf(MigrationsPendingError)
        expect((error as MigrationsPendingError).hint).toContain('synthex db migrate')

        const raw = await openDatabase(target, {command: 'db migrate', migrations: 'ignore'})
        expect(await pendingMigrations(raw.db)).toEqual(readMigrationFiles().map((file) => file.name))
        await raw.close()
      } finally {
        await server.drop()
      }
    })

    it('applies each migration exactly once when several runs race', async () => {
      const server = await createServerDatabase()
      try {
        const target = {kind: 'server' as const, setting: 'DATABASE_URL', url: server.url}
        const handles = await Promise.all(Array.from({length: 4}, () => openDatabase(target, {command: 'db migrate', migrations: 'ignore'})))
        const applied = await Promise.all(handles.map((handle) => migrateToLatest(handle.db as unknown as Kysely<unknown>)))
        expect(applied.flat().sort()).toEqual(readMigrationFiles().map((file) => file.name))
        await Promise.all(handles.map((handle) => handle.close()))
      } finally {
        await server.drop()
      }
    })
  })
}
