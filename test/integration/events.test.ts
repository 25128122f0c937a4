import {Readable} from 'node:stream'

import {sql} from 'kysely'
import {beforeAll, beforeEach, expect, it} from 'vitest'

import {type Audit, type EventQuery, listEvents, recordEvents, type WorkspaceEvent} from '../../src/services/events/events.js'
import {importTenantsCsv} from '../../src/services/import/tenant-import.js'
import {createTenant, tenantHistory, updateTenant} from '../../src/services/tenants/tenants.js'
import {createWorkspace, findWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend} from '../helpers/backends.js'

const alice: Audit = {actor: 'alice', source: 'cli'}
const bob: Audit = {actor: 'bob', source: 'cli'}
const carol: Audit = {actor: 'carol', source: 'api'}
const DAY = 24 * 60 * 60 * 1000

const shopify = (tenantId: string) => ({name: `Shop ${tenantId}`, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify'})

/** What a reader of the trail looks at first: which event, about what. */
const summary = (events: readonly WorkspaceEvent[]): string[] => events.map((event) => `${event.type} ${event.aggregateType}:${event.aggregateId}`)

describeEachBackend('events list (the audit trail)', (database) => {
  let workspace: Workspace
  let other: Workspace

  const list = async (query: Partial<EventQuery> = {}, in_: Workspace = workspace) => listEvents(database().db, in_, {limit: 100, ...query})

  /** Reads every page with `after` = the previous page's nextCursor, as a script would. */
  const allPages = async (query: Partial<EventQuery>, limit: number) => {
    const pages: WorkspaceEvent[][] = []
    let after: number | undefined
    for (;;) {
      const page = await list({...query, after, limit})
      pages.push(page.events)
      if (page.nextCursor === null) return pages
      expect(page.nextCursor).toBe(page.events.at(-1)?.id)
      after = page.nextCursor
    }
  }

  const credentialEvent = (type: string, tenantId: string, in_: Workspace, version: number) => ({
    aggregateId: tenantId,
    aggregateType: 'tenant',
    data: {fingerprint: `fp${version}`, label: 'default', service: 'shopify', version},
    type,
    workspaceId: in_.id,
  })

  /**
   * A small but varied trail: tenants created one by one and by a bulk import, updated,
   * credential events, a fleet-wide event, and the same tenant id in another workspace.
   */
  const seed = async (): Promise<void> => {
    const {db} = database()
    await createTenant(db, workspace, alice, shopify('acme-us'))
    await createTenant(db, workspace, alice, shopify('beta'))
    await updateTenant(db, workspace, bob, 'acme-us', {name: 'Acme US'})
    await recordEvents(db, carol, [credentialEvent('credential.set', 'acme-us', workspace, 1)])
    await recordEvents(db, carol, [credentialEvent('credential.rotated', 'acme-us', workspace, 2)])
    await recordEvents(db, carol, [credentialEvent('credential.set', 'beta', workspace, 1)])
    await database().bulk((session) =>
      importTenantsCsv(session, bob, Readable.from(['tenant_id,name,type,gmc_merchant_id\nimp-1,Imp 1,google_merchant,1\nimp-2,Imp 2,google_merchant,2\nimp-3,Imp 3,google_merchant,3\n']), {
        source: 'new.csv',
        workspace,
      }),
    )
    await updateTenant(db, workspace, alice, 'imp-2', {region: 'emea'})
    await recordEvents(db, {actor: 'dave', source: 'cli'}, [{aggregateId: 'k2', aggregateType: 'keyring', data: {moved: 3, toKey: 'k2'}, type: 'credentials.rekeyed', workspaceId: null}])
    await createTenant(db, other, alice, shopify('acme-us'))
    await recordEvents(db, carol, [credentialEvent('credential.set', 'acme-us', other, 1)])
  }

  beforeAll(async () => {
    other = await createWorkspace(database().db, alice, {slug: 'other'})
  })

  beforeEach(async () => {
    // The audit trail is append-only for UPDATE and DELETE; TRUNCATE (a test-only reset) is not.
    await sql`truncate tenants, events cascade`.execute(database().db)
    workspace = await findWorkspace(database().db, 'default')
  })

  it('lists the workspace\'s trail oldest first, with actor, source and data, plus fleet-wide events', async () => {
    await seed()
    const page = await list()
    expect(page).toMatchObject({nextCursor: null, workspace: 'default'})
    expect(summary(page.events)).toEqual([
      'tenant.created tenant:acme-us',
      'tenant.created tenant:beta',
      'tenant.updated tenant:acme-us',
      'credential.set tenant:acme-us',
      'credential.rotated tenant:acme-us',
      'credential.set tenant:beta',
      `tenants.imported import:${String(page.events[6]?.data.run)}`,
      'tenant.updated tenant:imp-2',
      'credentials.rekeyed keyring:k2',
    ])
    const ids = page.events.map((event) => event.id)
    expect(ids).toEqual(ids.toSorted((a, b) => a - b))
    expect(page.events[2]).toMatchObject({actor: 'bob', data: {changes: {name: {from: 'Shop acme-us', to: 'Acme US'}}}, source: 'cli', workspace: 'default'})
    expect(page.events[3]).toMatchObject({actor: 'carol', data: {fingerprint: 'fp1', service: 'shopify'}, source: 'api'})
    // Without --tenant an import event is shown as recorded: the whole chunk.
    expect(page.events[6]?.data).toMatchObject({file: 'new.csv', tenantIds: ['imp-1', 'imp-2', 'imp-3']})
    expect(page.events[8]).toMatchObject({actor: 'dave', workspace: null})
    expect(page.events[0]?.createdAt).toBeInstanceOf(Date)
  })

  it('keeps to the workspace: another workspace\'s events never show, fleet-wide ones show in both', async () => {
    await seed()
    const inDefault = await list()
    const inOther = await list({}, other)
    expect(inOther.workspace).toBe('other')
    expect(summary(inOther.events)).toEqual(['credentials.rekeyed keyring:k2', 'tenant.created tenant:acme-us', 'credential.set tenant:acme-us'])
    expect(inOther.events.map((event) => event.workspace)).toEqual([null, 'other', 'other'])
    expect(inDefault.events.filter((event) => event.workspace === 'other')).toEqual([])
    const shared = inOther.events.filter((event) => event.workspace === null).map((event) => event.id)
    expect(inDefault.events.filter((event) => event.workspace === null).map((event) => event.id)).toEqual(shared)
    // The same tenant id in each workspace is two tenants with two histories.
    expect(summary((await list({tenantId: 'acme-us'}, other)).events)).toEqual(['tenant.created tenant:acme-us', 'credential.set tenant:acme-us'])
  })

  it('--type takes an exact event type or a prefix family', async () => {
    await seed()
    expect(summary((await list({type: 'tenant.created'})).events)).toEqual(['tenant.created tenant:acme-us', 'tenant.created tenant:beta'])
    expect(summary((await list({type: 'tenant.create'})).events)).toEqual([])
    // `credential.*` is every credential event, not `credentials.rekeyed`.
    expect(summary((await list({typePrefix: 'credential.'})).events)).toEqual([
      'credential.set tenant:acme-us',
      'credential.rotated tenant:acme-us',
      'credential.set tenant:beta',
    ])
    expect((await list({typePrefix: 'tenant.'})).events.map((event) => event.type)).toEqual(['tenant.created', 'tenant.created', 'tenant.updated', 'tenant.updated'])
    // A LIKE wildcard in the prefix is taken literally.
    expect((await list({typePrefix: 'tenant_'})).events).toEqual([])
  })

  it('--tenant finds the tenant\'s events, bulk imports included, as its history shows them', async () => {
    await seed()
    expect(summary((await list({tenantId: 'acme-us'})).events)).toEqual([
      'tenant.created tenant:acme-us',
      'tenant.updated tenant:acme-us',
      'credential.set tenant:acme-us',
      'credential.rotated tenant:acme-us',
    ])

    const imported = await list({tenantId: 'imp-2'})
    expect(summary(imported.events)).toEqual(['tenants.imported tenant:imp-2', 'tenant.updated tenant:imp-2'])
    expect(imported.events[0]?.data).toMatchObject({file: 'new.csv', tenantsInChunk: 3})
    expect(imported.events[0]?.data).not.toHaveProperty('tenantIds')
    const history = await tenantHistory(database().db, workspace, 'imp-2', {limit: 100})
    expect(imported.events.map(({workspace: _, ...event}) => event)).toEqual(history.events)

    expect(summary((await list({tenantId: 'imp-1'})).events)).toEqual(['tenants.imported tenant:imp-1'])
    expect(summary((await list({tenantId: 'acme-us', typePrefix: 'credential.'})).events)).toEqual(['credential.set tenant:acme-us', 'credential.rotated tenant:acme-us'])
    expect(await list({tenantId: 'nobody'})).toMatchObject({events: [], nextCursor: null})
  })

  it('--actor keeps the events one actor made (exact match)', async () => {
    await seed()
    expect(summary((await list({actor: 'alice'})).events)).toEqual(['tenant.created tenant:acme-us', 'tenant.created tenant:beta', 'tenant.updated tenant:imp-2'])
    expect((await list({actor: 'carol'})).events.map((event) => event.type)).toEqual(['credential.set', 'credential.rotated', 'credential.set'])
    expect((await list({actor: 'Alice'})).events).toEqual([])
    expect((await list({actor: 'ali'})).events).toEqual([])
    expect(summary((await list({actor: 'bob', tenantId: 'acme-us'})).events)).toEqual(['tenant.updated tenant:acme-us'])
  })

  it('--since keeps the events recorded at or after a time', async () => {
    const {db} = database()
    const now = Date.now()
    const at = (daysAgo: number) => new Date(now - daysAgo * DAY)
    for (const [type, daysAgo] of [['tenant.created', 30], ['tenant.updated', 10], ['tenant.suspended', 2]] as const) {
      await db
        .insertInto('events')
        .values({actor: 'alice', aggregate_id: 'old', aggregate_type: 'tenant', created_at: at(daysAgo), data: '{}', source: 'cli', type, workspace_id: workspace.id})
        .execute()
    }

    await createTenant(db, workspace, alice, shopify('fresh'))
    expect((await list({since: at(7)})).events.map((event) => event.type)).toEqual(['tenant.suspended', 'tenant.created'])
    expect((await list({since: at(20)})).events.map((event) => event.type)).toEqual(['tenant.updated', 'tenant.suspended', 'tenant.created'])
    expect((await list({since: at(10)})).events.map((event) => event.type)).toEqual(['tenant.updated', 'tenant.suspended', 'tenant.created'])
    expect((await list({since: new Date(now + DAY)})).events).toEqual([])
    expect((await list({since: at(40), tenantId: 'old'})).events.map((event) => event.type)).toEqual(['tenant.created', 'tenant.updated', 'tenant.suspended'])
  })

  it('pages with --after: every event exactly once, in order, whatever the page size', async () => {
    const {db} = database()
    for (let index = 0; index < 20; index++) await createTenant(db, workspace, index % 2 === 0 ? alice : bob, shopify(`t-${String(index).padStart(2, '0')}`))
    const everything = (await list({limit: 1000})).events.map((event) => event.id)
    expect(everything).toHaveLength(20)

    for (const limit of [1, 3, 5, 7, 20, 25]) {
      const pages = await allPages({}, limit)
      const ids = pages.flat().map((event) => event.id)
      expect(ids).toEqual(everything)
      expect(pages.every((page) => page.length <= limit)).toBe(true)
      // A full last page says so: no empty page to fetch after it.
      expect(pages.at(-1)?.length).toBeGreaterThan(0)
      expect(pages).toHaveLength(Math.max(1, Math.ceil(20 / limit)))
    }

    // The cursor works with filters: only bob's ten events, four pages of three.
    const bobs = await allPages({actor: 'bob'}, 3)
    expect(bobs.map((page) => page.length)).toEqual([3, 3, 3, 1])
    expect(bobs.flat().map((event) => event.aggregateId)).toEqual(['t-01', 't-03', 't-05', 't-07', 't-09', 't-11', 't-13', 't-15', 't-17', 't-19'])

    // Events recorded after a page was read come on the next page, not lost.
    const first = await list({limit: 20})
    expect(first.nextCursor).toBeNull()
    await createTenant(db, workspace, alice, shopify('late'))
    expect(summary((await list({after: first.events.at(-1)?.id})).events)).toEqual(['tenant.created tenant:late'])
  })
})
