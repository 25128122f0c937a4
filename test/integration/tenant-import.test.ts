import {Readable} from 'node:stream'

import {sql} from 'kysely'
import {beforeEach, expect, it} from 'vitest'

import {type ImportOptions, type ImportResult, importTenantsCsv, type Rejection} from '../../src/services/import/tenant-import.js'
import {listTenants, tenantHistory} from '../../src/services/tenants/tenants.js'
import {createWorkspace, findWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend, type TestDatabase} from '../helpers/backends.js'

const audit = {actor: 'importer', source: 'cli'}
const HEADER = 'tenant_id,name,type,shopify_shop,gmc_merchant_id,market,region,status\n'

function shops(from: number, count: number, prefix = 'shop'): string {
  let text = ''
  for (let index = from; index < from + count; index++) text += `${prefix}-${index},Shop ${index},shopify,${prefix}-${index}.myshopify.com,,US,,\n`
  return text
}

describeEachBackend('bulk tenant import', (database) => {
  let workspace: Workspace

  const run = async (csv: string, options: Partial<ImportOptions> = {}): Promise<ImportResult & {rejectedRows: Rejection[]}> => {
    const rejectedRows: Rejection[] = []
    const result = await database().bulk((session) =>
      importTenantsCsv(session, audit, Readable.from([csv]), {
        chunkSize: 4,
        onRejected: (rejection) => void rejectedRows.push(rejection),
        source: 'test.csv',
        workspace,
        ...options,
      }),
    )
    return {...result, rejectedRows}
  }

  const tenantIds = async (db: TestDatabase['db'] = database().db, in_: Workspace = workspace): Promise<string[]> =>
    (await listTenants(db, in_, {limit: 10_000})).tenants.map((tenant) => tenant.tenantId)

  beforeEach(async () => {
    // The audit trail is append-only for UPDATE and DELETE; TRUNCATE (a test-only reset) is not.
    await sql`truncate tenants, events cascade`.execute(database().db)
    workspace = await findWorkspace(database().db, 'default')
  })

  it('imports the valid rows and reports every invalid one with its line, column and reason', async () => {
    const csv =
      HEADER +
      'good-1,Good 1,shopify,good-1.myshopify.com,,us,,\n' + // line 2
      'bad id,Bad,shopify,bad.myshopify.com,,,,\n' + // line 3
      'no-shop,No shop,shopify,,,,,\n' + // line 4
      'good-2,"Good, ""two""",mixed,good-2.myshopify.com,42,DE,emea,suspended\n' + // line 5
      'good-1,Again,shopify,again.myshopify.com,,,,\n' + // line 6: duplicate of line 2
      'feed,Feed,google_merchant,,77,XX,,\n' // line 7
    const result = await run(csv)
    expect(result).toMatchObject({committed: true, created: 2, read: 6, rejected: 4, skipped: 0, updated: 0})
    expect(result.rejections).toEqual([
      {column: 'tenant_id', line: 3, reason: 'tenant_id: may contain only letters, digits, "_" and "-"'},
      {column: 'shopify_shop', line: 4, reason: 'shopify_shop: is required for type shopify'},
      {column: 'tenant_id', line: 6, reason: 'tenant_id: "good-1" is a duplicate of line 2'},
      {column: 'market', line: 7, reason: 'market: must be an ISO 3166-1 alpha-2 country code such as US or DE, got "XX"'},
    ])
    expect(result.rejectedRows.find((row) => row.line === 3)?.raw).toEqual(['bad id', 'Bad', 'shopify', 'bad.myshopify.com', '', '', '', ''])
    const tenants = (await listTenants(database().db, workspace, {limit: 10})).tenants
    expect(tenants.map((tenant) => [tenant.tenantId, tenant.name, tenant.status, tenant.market])).toEqual([
      ['good-1', 'Good 1', 'active', 'US'],
      ['good-2', 'Good, "two"', 'suspended', 'DE'],
    ])
  })

  it('finds duplicates across chunks and rejects tenant ids that already exist (default: fail)', async () => {
    await run(HEADER + shops(0, 3))
    const result = await run(HEADER + shops(2, 6) + shops(5, 1))
    expect(result).toMatchObject({created: 5, read: 7, rejected: 2})
    expect(result.rejections.map((rejection) => rejection.reason)).toEqual([
      'tenant_id: "shop-2" already exists in workspace "default" (use --on-conflict skip or update)',
      'tenant_id: "shop-5" is a duplicate of line 5',
    ])
    expect(await tenantIds()).toHaveLength(8)
  })

  it('re-running with skip changes nothing and says so', async () => {
    const csv = HEADER + shops(0, 10)
    expect(await run(csv, {onConflict: 'skip'})).toMatchObject({created: 10, skipped: 0})
    expect(await run(csv, {onConflict: 'skip'})).toMatchObject({created: 0, rejected: 0, skipped: 10, updated: 0})
    expect(await tenantIds()).toHaveLength(10)
  })

  it('updates changed tenants with update, records what changed, and a second run is a no-op', async () => {
    await run(HEADER + shops(0, 6))
    const changed = HEADER + shops(0, 6).replace('Shop 1,', 'Renamed 1,').replace('shop-4,Shop 4,shopify,shop-4.myshopify.com,,US', 'shop-4,Shop 4,shopify,shop-4.myshopify.com,,GB') + shops(6, 2)
    expect(await run(changed, {onConflict: 'update'})).toMatchObject({created: 2, rejected: 0, skipped: 4, updated: 2})
    expect(await run(changed, {onConflict: 'update'})).toMatchObject({created: 0, skipped: 8, updated: 0})

    const history = await tenantHistory(database().db, workspace, 'shop-1', {limit: 10})
    expect(history.events.map((event) => event.type)).toEqual(['tenants.imported', 'tenant.updated'])
    expect(history.events[1]?.data).toMatchObject({changes: {name: {from: 'Shop 1', to: 'Renamed 1'}}, import: {file: 'test.csv'}})
  })

  it('keeps the keys of an update run in a table of its own, gone when the run ends however it ends', async () => {
    // The embedded database's one session may be shared by several clients (see src/db/bulk-session.ts).
    const leftovers = async (): Promise<number> =>
      (await sql<{n: number}>`select count(*)::int as n from pg_class where relname like 'synthex_import_keys%'`.execute(database().db)).rows[0]?.n ?? -1
    const repeated = HEADER + shops(0, 6) + shops(2, 1)
    expect(await run(repeated, {onConflict: 'update'})).toMatchObject({created: 6, rejected: 1})
    expect(await leftovers()).toBe(0)

    const failing = run(HEADER + shops(10, 6) + 'bad id,B,shopify,b.myshopify.com,,,,\n' + shops(16, 6), {
      onConflict: 'update',
      onRejected: () => {
        throw new Error('the reject file cannot be written')
      },
    })
    await expect(failing).rejects.toThrow('the reject file cannot be written')
    expect(await leftovers()).toBe(0)
  })

  it('leaves columns the file does not have untouched on update', async () => {
    await run(HEADER + 'keep,Keep,shopify,keep.myshopify.com,,US,emea,suspended\n')
    expect(await run('tenant_id,name,type,shopify_shop\nkeep,Kept,shopify,keep.myshopify.com\n', {onConflict: 'update'})).toMatchObject({updated: 1})
    const [tenant] = (await listTenants(database().db, workspace, {limit: 1})).tenants
    expect(tenant).toMatchObject({market: 'US', name: 'Kept', region: 'emea', status: 'suspended'})
  })

  it('imports nothing at all with atomic when any row is invalid, and everything when none is', async () => {
    const bad = await run(HEADER + shops(0, 9) + 'oops,,shopify,oops.myshopify.com,,,,\n', {atomic: true})
    expect(bad).toMatchObject({committed: false, created: 9, rejected: 1})
    expect(await tenantIds()).toEqual([])
    const good = await run(HEADER + shops(0, 9), {atomic: true})
    expect(good).toMatchObject({committed: true, created: 9})
    expect(await tenantIds()).toHaveLength(9)
  })

  it('checks everything on a dry run, conflicts included, and writes nothing', async () => {
    await run(HEADER + shops(0, 2))
    const eventsBefore = await database().db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    const result = await run(HEADER + shops(0, 5) + 'x y,X,shopify,x.myshopify.com,,,,\n', {dryRun: true})
    expect(result).toMatchObject({committed: false, created: 3, dryRun: true, rejected: 3})
    expect(await tenantIds()).toEqual(['shop-0', 'shop-1'])
    const eventsAfter = await database().db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    expect(Number(eventsAfter.n)).toBe(Number(eventsBefore.n))
  })

  it('routes rows to the workspace named in their workspace column', async () => {
    const other = await createWorkspace(database().db, audit, {slug: `imp-${Date.now()}`})
    const csv = `tenant_id,name,type,shopify_shop,workspace\nsame,Here,shopify,here.myshopify.com,\nsame,There,shopify,there.myshopify.com,${other.slug}\nlost,Lost,shopify,lost.myshopify.com,nowhere\n`
    const result = await run(csv)
    expect(result).toMatchObject({created: 2, rejected: 1})
    expect(result.rejections[0]?.reason).toContain('workspace: workspace "nowhere" does not exist')
    expect(await tenantIds(database().db, other)).toEqual(['same'])
    expect(await tenantIds()).toEqual(['same'])
  })

  it('handles a workspace column while chunks meet existing tenants, in every mode', async () => {
    const other = await createWorkspace(database().db, audit, {slug: `ws-mix-${Date.now()}`})
    await run(HEADER + shops(0, 6))
    let csv = 'tenant_id,name,type,shopify_shop,workspace\n'
    for (let index = 0; index < 12; index++) csv += `shop-${index},S ${index},shopify,shop-${index}.myshopify.com,${index % 2 ? other.slug : ''}\n`
    const cases: Array<[Partial<ImportOptions>, {rejected: number; skipped: number}]> = [
      [{dryRun: true}, {rejected: 3, skipped: 0}],
      [{dryRun: true, onConflict: 'skip'}, {rejected: 0, skipped: 3}],
      [{atomic: true, onConflict: 'skip'}, {rejected: 0, skipped: 3}],
    ]
    for (const [options, expected] of cases) {
      expect(await run(csv, options), JSON.stringify(options)).toMatchObject({created: 9, read: 12, ...expected})
    }

    expect(await tenantIds(database().db, other)).toHaveLength(6)
  })

  it('records one tenants.imported event per chunk, which each tenant\'s history shows', async () => {
    await run(HEADER + shops(0, 10))
    const events = await database().db.selectFrom('events').selectAll().where('type', '=', 'tenants.imported').execute()
    expect(events).toHaveLength(3)
    expect(events.flatMap((event) => event.data.tenantIds as string[]).sort()).toEqual([...Array.from({length: 10}, (_, index) => `shop-${index}`)].sort())
    expect(events.every((event) => event.actor === 'importer' && event.data.file === 'test.csv')).toBe(true)
    const history = await tenantHistory(database().db, workspace, 'shop-7', {limit: 10})
    expect(history.events).toHaveLength(1)
    expect(history.events[0]).toMatchObject({aggregateId: 'shop-7', data: {file: 'test.csv', tenantsInChunk: 4}, type: 'tenants.imported'})
  })

  it('isolates a row the database refuses without losing its neighbours', async () => {
    const {db} = database()
    await sql`alter table tenants add constraint test_no_forbidden check (name <> 'Forbidden')`.execute(db)
    try {
      const result = await run(HEADER + shops(0, 2) + 'bad,Forbidden,shopify,bad.myshopify.com,,,,\n' + shops(2, 2))
      expect(result).toMatchObject({created: 4, rejected: 1})
      expect(result.rejections[0]).toMatchObject({line: 4})
      expect(result.rejections[0]?.reason).toContain('test_no_forbidden')
      expect(await tenantIds()).toEqual(['shop-0', 'shop-1', 'shop-2', 'shop-3'])
    } finally {
      await sql`alter table tenants drop constraint test_no_forbidden`.execute(db)
    }
  })
})
