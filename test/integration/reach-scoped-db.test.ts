import {randomBytes} from 'node:crypto'

import {Kysely, PostgresDialect, sql} from 'kysely'
import pg from 'pg'
import {afterAll, beforeAll, expect, it} from 'vitest'

import {Keyring} from '../../src/crypto/keyring.js'
import {openDatabase, type OpenDatabase} from '../../src/db/open-database.js'
import {reachScopedDb, rowSecurityBinds} from '../../src/db/reach-scoped-db.js'
import type {Db} from '../../src/db/schema.js'
import {NotFoundError} from '../../src/errors/input-errors.js'
import type {Reach} from '../../src/services/access/reach.js'
import {createServeRole} from '../../src/services/access/serve-role.js'
import {setCredential} from '../../src/services/credentials/credentials.js'
import {recordEvents} from '../../src/services/events/events.js'
import {createTenant} from '../../src/services/tenants/tenants.js'
import {createWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend, describeOnServer, postgresDatabase, type TestDatabase} from '../helpers/backends.js'

/**
 * reachScopedDb (src/db/reach-scoped-db.ts): the handle serve gives a request, whose every
 * use runs in a transaction carrying the caller's reach for the row-level policies of
 * migrations/0016_users_roles.sql. On both backends, how it runs queries and transactions
 * and that a pooled connection comes back clean; on a server, under a login made by
 * `db create-serve-role`, that a query without any filter sees only the caller's rows.
 */

const audit = {actor: 'rls-test', source: 'test'}
const keyring = new Keyring({id: 'k1', key: randomBytes(32)})

/** The reach settings a statement sees, as the policies read them. */
async function settingsSeen(db: Db): Promise<Record<string, null | string>> {
  const {rows} = await sql<Record<string, null | string>>`
    select synthex_reach_role() as role,
      nullif(current_setting('synthex.reach_workspaces', true), '') as workspaces,
      nullif(current_setting('synthex.reach_tenants', true), '') as tenants,
      nullif(current_setting('synthex.reach_tenant_keys', true), '') as keys`.execute(db)
  return rows[0] as Record<string, null | string>
}

/** True when the statement is the first of its transaction: the connection was not left inside one. */
async function freshTransaction(db: Db): Promise<boolean> {
  const {rows} = await sql<{fresh: boolean}>`select transaction_timestamp() = statement_timestamp() as fresh`.execute(db)
  return rows[0]?.fresh === true
}

describeEachBackend('a reach-scoped database handle', (database, backend) => {
  let workspace: Workspace
  /** A handle on one connection, so that what a use leaves behind is what the next one gets. */
  let single: Db
  const workspaceId = '00000000-0000-4000-8000-0000000000a1'
  const admin: Reach = {kind: 'workspaces', workspaceIds: new Set([workspaceId])}

  beforeAll(async () => {
    workspace = await createWorkspace(database().db, audit, {slug: 'scoped'})
    single = backend === 'pglite' ? database().db : (new Kysely<never>({dialect: new PostgresDialect({pool: new pg.Pool({connectionString: database().url, max: 1})})}) as unknown as Db)
  })
  afterAll(async () => {
    if (backend === 'postgres') await single.destroy()
  })

  it('sets the reach for each query and each transaction only, and returns the handle itself for a reach of everything', async () => {
    const {db} = database()
    expect(reachScopedDb(db, {kind: 'all'})).toBe(db)
    expect(await rowSecurityBinds(db)).toBe(false)

    expect(await settingsSeen(reachScopedDb(db, admin))).toEqual({keys: null, role: 'admin', tenants: null, workspaces: workspaceId})
    const client: Reach = {
      kind: 'tenants',
      tenants: [
        {id: '00000000-0000-4000-8000-0000000000b1', tenantId: 'shop-1', workspaceId},
        {id: '00000000-0000-4000-8000-0000000000b2', tenantId: 'shop-2', workspaceId},
      ],
    }
    expect(await settingsSeen(reachScopedDb(db, client))).toEqual({
      keys: `${workspaceId}/shop-1,${workspaceId}/shop-2`,
      role: 'client',
      tenants: '00000000-0000-4000-8000-0000000000b1,00000000-0000-4000-8000-0000000000b2',
      workspaces: null,
    })
    expect(await settingsSeen(reachScopedDb(db, {kind: 'workspaces', workspaceIds: new Set()}))).toMatchObject({role: 'admin', workspaces: null})

    // A service's transaction is one transaction with the reach, committed once.
    const scoped = reachScopedDb(single, admin)
    const inside = await scoped.transaction().execute(async (trx) => {
      const first = await sql<{id: string}>`select pg_current_xact_id()::text as id`.execute(trx)
      const second = await sql<{id: string}>`select pg_current_xact_id()::text as id`.execute(trx)
      return {same: first.rows[0]?.id === second.rows[0]?.id, settings: await settingsSeen(trx)}
    })
    expect(inside).toEqual({same: true, settings: {keys: null, role: 'admin', tenants: null, workspaces: workspaceId}})
    const isolation = await scoped
      .transaction()
      .setIsolationLevel('serializable')
      .execute(async (trx) => (await sql<{level: string}>`select current_setting('transaction_isolation') as level`.execute(trx)).rows[0]?.level)
    expect(isolation).toBe('serializable')

    // The same connection, used without the handle afterwards: no reach, no open transaction.
    expect(await settingsSeen(single)).toEqual({keys: null, role: 'all', tenants: null, workspaces: null})
    expect(await freshTransaction(single)).toBe(true)
  })

  it('rolls back only the failed work and leaves the pooled connection clean', async () => {
    const scoped = reachScopedDb(single, admin)
    const count = async (): Promise<number> =>
      Number((await single.selectFrom('tenants').select((eb) => eb.fn.countAll<number>().as('n')).where('workspace_id', '=', workspace.id).executeTakeFirstOrThrow()).n)

    // A service transaction that fails half-way (a duplicate tenant id) keeps nothing.
    await createTenant(scoped, workspace, audit, {name: 'Kept', shopify_shop: 'kept.myshopify.com', tenant_id: 'kept', type: 'shopify'})
    const failing = scoped.transaction().execute(async (trx) => {
      await trx.insertInto('tenants').values({name: 'Lost', shopify_shop: 'lost.myshopify.com', tenant_id: 'lost', type: 'shopify', workspace_id: workspace.id}).execute()
      await trx.insertInto('tenants').values({name: 'Again', shopify_shop: 'kept.myshopify.com', tenant_id: 'kept', type: 'shopify', workspace_id: workspace.id}).execute()
    })
    await expect(failing).rejects.toMatchObject({code: '23505'})
    expect(await count()).toBe(1)
    expect(await freshTransaction(single)).toBe(true)
    expect(await settingsSeen(single)).toMatchObject({role: 'all'})

    // A lone statement that fails, then the next use of the handle.
    await expect(sql`select 1 / 0`.execute(scoped)).rejects.toMatchObject({code: '22012'})
    expect(await settingsSeen(scoped)).toMatchObject({role: 'admin'})
    expect(await freshTransaction(single)).toBe(true)

    // A controlled transaction with a savepoint, as the import's --atomic runs.
    const trx = await scoped.startTransaction().execute()
    await trx.insertInto('tenants').values({name: 'Saved', shopify_shop: 'saved.myshopify.com', tenant_id: 'saved', type: 'shopify', workspace_id: workspace.id}).execute()
    const afterSaved = await trx.savepoint('after_saved').execute()
    await expect(afterSaved.insertInto('tenants').values({name: 'Dup', shopify_shop: 'saved.myshopify.com', tenant_id: 'saved', type: 'shopify', workspace_id: workspace.id}).execute()).rejects.toMatchObject({code: '23505'})
    await afterSaved.rollbackToSavepoint('after_saved').execute()
    expect(await settingsSeen(afterSaved)).toMatchObject({role: 'admin'})
    await afterSaved.commit().execute()
    expect(await count()).toBe(2)

    // On one connection (`db.connection()`), a transaction after other statements is a
    // savepoint of the handle's transaction: its failure undoes only its own work.
    await scoped.connection().execute(async (connection) => {
      await connection.insertInto('tenants').values({name: 'Before', shopify_shop: 'before.myshopify.com', tenant_id: 'before', type: 'shopify', workspace_id: workspace.id}).execute()
      await expect(
        connection.transaction().execute(async (inner) => {
          await inner.insertInto('tenants').values({name: 'Inner', shopify_shop: 'inner.myshopify.com', tenant_id: 'inner', type: 'shopify', workspace_id: workspace.id}).execute()
          throw new Error('changed my mind')
        }),
      ).rejects.toThrow('changed my mind')
      await connection.transaction().execute((inner) => inner.updateTable('tenants').set({name: 'Before, renamed'}).where('tenant_id', '=', 'before').execute())
    })
    expect(await single.selectFrom('tenants').select('name').where('tenant_id', 'in', ['before', 'inner']).execute()).toEqual([{name: 'Before, renamed'}])

    // A failure the consumer swallowed aborts the handle's transaction: the use fails rather
    // than report as done work that Postgres did not commit.
    const swallowed = scoped.connection().execute(async (connection) => {
      await connection.insertInto('tenants').values({name: 'Ghost', shopify_shop: 'ghost.myshopify.com', tenant_id: 'ghost', type: 'shopify', workspace_id: workspace.id}).execute()
      await sql`select 1 / 0`.execute(connection).catch(() => {})
    })
    await expect(swallowed).rejects.toThrow('was not committed')
    expect(await single.selectFrom('tenants').select('tenant_id').where('tenant_id', '=', 'ghost').execute()).toEqual([])
    expect(await freshTransaction(single)).toBe(true)
    expect(await settingsSeen(single)).toMatchObject({role: 'all'})
  })

  it('refuses a transaction and a handle already limited to a reach', async () => {
    const {db} = database()
    await db.transaction().execute(async (trx) => {
      expect(() => reachScopedDb(trx, admin)).toThrow('not a transaction')
    })
    await expect(sql`select 1`.execute(reachScopedDb(reachScopedDb(db, admin), admin))).rejects.toThrow('already limited to a reach')
  })
})

describeOnServer('row-level security under the serve role [server]', () => {
  const role = `sx_serve_${process.pid}_${randomBytes(3).toString('hex')}`
  let owner: TestDatabase
  let restricted: OpenDatabase
  const ws: Record<'a' | 'b', Workspace> = {} as Record<'a' | 'b', Workspace>
  const tenantIds: Record<string, string> = {}

  /** The URL of the suite's database for the serve role (the test server trusts 127.0.0.1). */
  const roleUrl = (): string => {
    const url = new URL(owner.url as string)
    url.username = role
    url.password = ''
    return url.toString()
  }

  beforeAll(async () => {
    owner = await postgresDatabase()
    const made = await createServeRole(owner.db, audit, {name: role, password: {kind: 'none'}})
    expect(made).toMatchObject({created: true, role, rowSecurity: ['alerts', 'credentials', 'events', 'tenants']})
    // Opened as serve opens it: the pending-migrations check reads the bookkeeping table.
    restricted = await openDatabase({kind: 'server', setting: 'TEST_DATABASE_URL', url: roleUrl()}, {command: 'test', poolSize: 1})

    ws.a = await createWorkspace(owner.db, audit, {slug: 'rls-a'})
    ws.b = await createWorkspace(owner.db, audit, {slug: 'rls-b'})
    for (const [workspace, id] of [
      [ws.a, 'a1'],
      [ws.a, 'a2'],
      [ws.b, 'b1'],
    ] as const) {
      const tenant = await createTenant(owner.db, workspace, audit, {name: id, shopify_shop: `${id}.myshopify.com`, tenant_id: id, type: 'shopify'})
      tenantIds[id] = tenant.id
      await setCredential(owner.db, keyring, workspace, audit, {service: 'shopify', tenantId: id}, {value: `shpat_${id}`})
      await owner.db
        .insertInto('alerts')
        .values({fingerprint: `rls-${id}`, rule: 'credential_expiring', severity: 'warning', started_at: new Date(), summary: id, tenant_id: id, updated_at: new Date(), workspace_id: workspace.id})
        .execute()
    }

    // An event of no workspace (a key's creation): superadmins' only.
    await recordEvents(owner.db, audit, [{aggregateId: 'rls-key', aggregateType: 'api_key', data: {}, type: 'api_key.created', workspaceId: null}])
  })

  afterAll(async () => {
    await restricted?.close()
    if (owner) {
      // Before the suite's database is dropped: DROP OWNED takes back the role's grants there.
      await sql`drop owned by ${sql.id(role)}`.execute(owner.db)
      await sql`drop role ${sql.id(role)}`.execute(owner.db)
      await owner.close()
    }
  })

  /** What a query without any filter sees of each table. */
  const seen = async (db: Db) => ({
    alerts: (await db.selectFrom('alerts').select('tenant_id').orderBy('tenant_id').execute()).map((row) => row.tenant_id),
    credentials: (await db.selectFrom('credentials').innerJoin('tenants', 'tenants.id', 'credentials.tenant_id').select('tenants.tenant_id').orderBy('tenants.tenant_id').execute()).map((row) => row.tenant_id),
    events: (await db.selectFrom('events').select(['aggregate_id', 'workspace_id']).execute()).map((row) => `${row.workspace_id === ws.a.id ? 'a' : row.workspace_id === ws.b.id ? 'b' : row.workspace_id === null ? '-' : 'other'}:${row.aggregate_id}`).sort(),
    tenants: (await db.selectFrom('tenants').select('tenant_id').where('tenant_id', 'in', ['a1', 'a2', 'b1']).orderBy('tenant_id').execute()).map((row) => row.tenant_id),
  })

  const clientOf = (id: 'a1' | 'a2' | 'b1'): Reach => ({kind: 'tenants', tenants: [{id: tenantIds[id] as string, tenantId: id, workspaceId: id.startsWith('a') ? ws.a.id : ws.b.id}]})

  it('binds the serve role and not the owner', async () => {
    expect(await rowSecurityBinds(restricted.db)).toBe(true)
    expect(await rowSecurityBinds(owner.db)).toBe(false)
  })

  it('lets a query without any filter see only the rows within the reach', async () => {
    const everything = await seen(restricted.db)
    // Unscoped (background work, the CLI) and a reach of everything: every row.
    expect(everything).toMatchObject({alerts: ['a1', 'a2', 'b1'], credentials: ['a1', 'a2', 'b1'], tenants: ['a1', 'a2', 'b1']})
    expect(everything.events).toEqual(expect.arrayContaining(['-:rls-key', 'a:a1', 'a:rls-a', 'b:b1', 'b:rls-b']))
    expect(await seen(reachScopedDb(restricted.db, {kind: 'all'}))).toEqual(everything)

    expect(await seen(reachScopedDb(restricted.db, {kind: 'workspaces', workspaceIds: new Set([ws.a.id])}))).toEqual({
      alerts: ['a1', 'a2'],
      credentials: ['a1', 'a2'],
      events: ['a:a1', 'a:a1', 'a:a2', 'a:a2', 'a:rls-a'],
      tenants: ['a1', 'a2'],
    })
    expect(await seen(reachScopedDb(restricted.db, clientOf('a1')))).toEqual({alerts: ['a1'], credentials: ['a1'], events: ['a:a1', 'a:a1'], tenants: ['a1']})
    expect(await seen(reachScopedDb(restricted.db, {kind: 'tenants', tenants: []}))).toEqual({alerts: [], credentials: [], events: [], tenants: []})

    // The owner is not bound: the same settings change nothing for it.
    expect((await seen(reachScopedDb(owner.db, clientOf('a1')))).tenants).toEqual(['a1', 'a2', 'b1'])
  })

  it('runs a service transaction within the reach, and the policy refuses a write outside it', async () => {
    const client = reachScopedDb(restricted.db, clientOf('a1'))
    const stored = await setCredential(client, keyring, ws.a, audit, {label: 'second', service: 'shopify', tenantId: 'a1'}, {value: 'shpat_a1_second'})
    expect(stored).toMatchObject({label: 'second', tenantId: 'a1', version: 1})
    // Another tenant's row is invisible: to the service, it does not exist.
    await expect(setCredential(client, keyring, ws.a, audit, {label: 'second', service: 'shopify', tenantId: 'a2'}, {value: 'shpat_a2_second'})).rejects.toBeInstanceOf(NotFoundError)

    const admin = reachScopedDb(restricted.db, {kind: 'workspaces', workspaceIds: new Set([ws.a.id])})
    await createTenant(admin, ws.a, audit, {name: 'a3', shopify_shop: 'a3.myshopify.com', tenant_id: 'a3', type: 'shopify'})
    await expect(createTenant(admin, ws.b, audit, {name: 'b9', shopify_shop: 'b9.myshopify.com', tenant_id: 'b9', type: 'shopify'})).rejects.toMatchObject({
      code: '42501',
      message: expect.stringContaining('row-level security'),
    })
    await expect(client.insertInto('alerts').values({fingerprint: 'rls-b1-2', rule: 'x', severity: 'info', started_at: new Date(), summary: 'x', tenant_id: 'b1', updated_at: new Date(), workspace_id: ws.b.id}).execute()).rejects.toMatchObject({code: '42501'})
    // An update outside the reach finds no row to change.
    expect(Number((await admin.updateTable('tenants').set({name: 'taken'}).where('tenant_id', '=', 'b1').executeTakeFirst()).numUpdatedRows)).toBe(0)

    const written = await owner.db.selectFrom('tenants').select(['tenant_id', 'name']).where('tenant_id', 'in', ['a3', 'b9', 'b1']).orderBy('tenant_id').execute()
    expect(written).toEqual([
      {name: 'a3', tenant_id: 'a3'},
      {name: 'b1', tenant_id: 'b1'},
    ])
  })

  it('leaves its one pooled connection usable and unscoped after a failing statement', async () => {
    const admin = reachScopedDb(restricted.db, {kind: 'workspaces', workspaceIds: new Set([ws.b.id])})
    await expect(
      admin.transaction().execute(async (trx) => {
        await trx.updateTable('tenants').set({name: 'renamed'}).where('tenant_id', '=', 'b1').execute()
        await sql`select 1 / 0`.execute(trx)
      }),
    ).rejects.toMatchObject({code: '22012'})
    expect((await seen(admin)).tenants).toEqual(['b1'])
    expect((await seen(restricted.db)).tenants).toEqual(['a1', 'a2', 'b1'])
    expect(await freshTransaction(restricted.db)).toBe(true)
    expect(await owner.db.selectFrom('tenants').select('name').where('tenant_id', '=', 'b1').executeTakeFirst()).toEqual({name: 'b1'})
  })
})
