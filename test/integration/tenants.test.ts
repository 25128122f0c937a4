import {sql} from 'kysely'
import {beforeEach, expect, it} from 'vitest'

import {ConflictError, InvalidInputError, NotFoundError} from '../../src/errors/input-errors.js'
import type {Audit} from '../../src/services/events/events.js'
import {
  changeTenantStatus,
  createTenant,
  deleteTenant,
  getTenant,
  listTenants,
  tenantHistory,
  updateTenant,
} from '../../src/services/tenants/tenants.js'
import {createWorkspace, findWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend} from '../helpers/backends.js'

const audit: Audit = {actor: 'alice', source: 'cli'}

const shopify = (tenantId: string, name = `Shop ${tenantId}`) => ({name, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify'})

describeEachBackend('tenants', (database) => {
  let workspace: Workspace

  beforeEach(async () => {
    const {db} = database()
    await sql`truncate tenants cascade`.execute(db)
    workspace = await findWorkspace(db, 'default')
  })

  it('creates a tenant and records tenant.created in the audit trail', async () => {
    const {db} = database()
    const tenant = await createTenant(db, workspace, audit, {...shopify('acme-us'), market: 'us'})
    expect(tenant).toMatchObject({market: 'US', name: 'Shop acme-us', status: 'active', tenantId: 'acme-us', type: 'shopify', workspace: 'default'})
    expect(await getTenant(db, workspace, 'acme-us')).toEqual(tenant)

    const history = await tenantHistory(db, workspace, 'acme-us', {limit: 10})
    expect(history.events.map((event) => event.type)).toEqual(['tenant.created'])
    expect(history.events[0]).toMatchObject({actor: 'alice', aggregateId: 'acme-us', aggregateType: 'tenant', source: 'cli'})
    expect(history.events[0]?.data.fields).toMatchObject({market: 'US', shopify_shop: 'acme-us.myshopify.com', tenant_id: 'acme-us'})
  })

  it('refuses a duplicate tenant id with a conflict, and writes no event for it', async () => {
    const {db} = database()
    await createTenant(db, workspace, audit, shopify('dup'))
    const before = await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    await expect(createTenant(db, workspace, audit, shopify('dup'))).rejects.toThrow(ConflictError)
    await expect(createTenant(db, workspace, audit, shopify('dup'))).rejects.toThrow('Tenant "dup" already exists in workspace "default".')
    const after = await db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    expect(Number(after.n)).toBe(Number(before.n))
  })

  it('keeps tenant ids unique per workspace, not globally', async () => {
    const {db} = database()
    const other = await createWorkspace(db, audit, {slug: `ws-${Date.now()}`})
    await createTenant(db, workspace, audit, shopify('same-id'))
    await createTenant(db, other, audit, shopify('same-id'))
    expect((await listTenants(db, other, {limit: 10})).tenants.map((tenant) => tenant.workspace)).toEqual([other.slug])
  })

  it('rejects invalid input before touching the database', async () => {
    const {db} = database()
    const error = await createTenant(db, workspace, audit, {name: 'x', tenant_id: 'no spaces', type: 'shopify'}).catch((error_: unknown) => error_)
    expect(error).toBeInstanceOf(InvalidInputError)
    expect((error as InvalidInputError).issues.map((issue) => issue.field)).toEqual(['tenant_id', 'shopify_shop'])
    expect((await listTenants(db, workspace, {limit: 10})).tenants).toEqual([])
  })

  it('filters by type, status and search, and pages through everything exactly once', async () => {
    const {db} = database()
    for (let index = 0; index < 25; index++) {
      const id = `t-${String(index).padStart(2, '0')}`
      await createTenant(db, workspace, audit, index % 5 === 0
        ? {gmc_merchant_id: String(1000 + index), name: `Feed ${index}`, tenant_id: id, type: 'google_merchant'}
        : shopify(id, index === 7 ? 'Acme 100% Organic_Shop' : `Shop ${index}`))
    }

    await changeTenantStatus(db, workspace, audit, 't-03', 'suspended')

    expect((await listTenants(db, workspace, {limit: 100, type: 'google_merchant'})).tenants.map((t) => t.tenantId)).toEqual(['t-00', 't-05', 't-10', 't-15', 't-20'])
    expect((await listTenants(db, workspace, {limit: 100, status: 'suspended'})).tenants.map((t) => t.tenantId)).toEqual(['t-03'])
    expect((await listTenants(db, workspace, {limit: 100, search: 'FEED 1'})).tenants.map((t) => t.tenantId)).toEqual(['t-10', 't-15'])
    expect((await listTenants(db, workspace, {limit: 100, search: 't-2'})).tenants.map((t) => t.tenantId)).toEqual(['t-20', 't-21', 't-22', 't-23', 't-24'])
    // LIKE wildcards in the search text are literal characters, not patterns.
    expect((await listTenants(db, workspace, {limit: 100, search: '100%'})).tenants.map((t) => t.tenantId)).toEqual(['t-07'])
    expect((await listTenants(db, workspace, {limit: 100, search: 'c_S'})).tenants.map((t) => t.tenantId)).toEqual(['t-07'])

    const seen: string[] = []
    let after: string | undefined
    let pages = 0
    do {
      const page = await listTenants(db, workspace, {after, limit: 10})
      seen.push(...page.tenants.map((tenant) => tenant.tenantId))
      after = page.nextCursor ?? undefined
      pages++
    } while (after)

    expect(pages).toBe(3)
    expect(seen).toEqual([...seen].sort())
    expect(new Set(seen).size).toBe(25)
  })

  it('updates only what changes, validates the merged tenant, and records the changed fields', async () => {
    const {db} = database()
    await createTenant(db, workspace, audit, shopify('upd'))
    const {changes, tenant} = await updateTenant(db, workspace, {actor: 'bob', source: 'cli'}, 'upd', {market: 'de', name: 'Renamed'})
    expect(changes).toEqual({market: {from: null, to: 'DE'}, name: {from: 'Shop upd', to: 'Renamed'}})
    expect(tenant).toMatchObject({market: 'DE', name: 'Renamed'})
    expect(tenant.updatedAt.getTime()).toBeGreaterThanOrEqual(tenant.createdAt.getTime())

    const noop = await updateTenant(db, workspace, audit, 'upd', {name: 'Renamed'})
    expect(noop.changes).toEqual({})

    await expect(updateTenant(db, workspace, audit, 'upd', {type: 'google_merchant'})).rejects.toThrow(InvalidInputError)
    const mixed = await updateTenant(db, workspace, audit, 'upd', {gmc_merchant_id: '42', type: 'mixed'})
    expect(mixed.tenant).toMatchObject({gmcMerchantId: '42', type: 'mixed'})
    const cleared = await updateTenant(db, workspace, audit, 'upd', {market: ''})
    expect(cleared.tenant.market).toBeNull()

    const history = await tenantHistory(db, workspace, 'upd', {limit: 10})
    expect(history.events.map((event) => [event.type, event.actor])).toEqual([
      ['tenant.created', 'alice'],
      ['tenant.updated', 'bob'],
      ['tenant.updated', 'alice'],
      ['tenant.updated', 'alice'],
    ])
    expect(history.events[1]?.data).toEqual({changes: {market: {from: null, to: 'DE'}, name: {from: 'Shop upd', to: 'Renamed'}}})
  })

  it('refuses to change a tenant id and to update a tenant that does not exist', async () => {
    const {db} = database()
    await createTenant(db, workspace, audit, shopify('fixed'))
    await expect(updateTenant(db, workspace, audit, 'fixed', {tenant_id: 'moved'})).rejects.toThrow(InvalidInputError)
    await expect(updateTenant(db, workspace, audit, 'ghost', {name: 'x'})).rejects.toThrow(NotFoundError)
  })

  it('suspends, activates and deactivates, recording each real change once', async () => {
    const {db} = database()
    await createTenant(db, workspace, audit, shopify('st'))
    expect((await changeTenantStatus(db, workspace, audit, 'st', 'suspended')).changes).toEqual({status: {from: 'active', to: 'suspended'}})
    expect((await changeTenantStatus(db, workspace, audit, 'st', 'suspended')).changes).toEqual({})
    await changeTenantStatus(db, workspace, audit, 'st', 'active')
    await changeTenantStatus(db, workspace, audit, 'st', 'inactive')
    const types = (await tenantHistory(db, workspace, 'st', {limit: 10})).events.map((event) => event.type)
    expect(types).toEqual(['tenant.created', 'tenant.suspended', 'tenant.activated', 'tenant.deactivated'])
    await expect(changeTenantStatus(db, workspace, audit, 'ghost', 'active')).rejects.toThrow(NotFoundError)
  })

  it('deletes a tenant and keeps its history readable', async () => {
    const {db} = database()
    await createTenant(db, workspace, audit, shopify('gone'))
    const deleted = await deleteTenant(db, workspace, audit, 'gone')
    expect(deleted.tenantId).toBe('gone')
    await expect(getTenant(db, workspace, 'gone')).rejects.toThrow(NotFoundError)
    await expect(deleteTenant(db, workspace, audit, 'gone')).rejects.toThrow(NotFoundError)
    const history = await tenantHistory(db, workspace, 'gone', {limit: 10})
    expect(history.events.map((event) => event.type)).toEqual(['tenant.created', 'tenant.deleted'])
    expect(history.events[1]?.data.fields).toMatchObject({shopify_shop: 'gone.myshopify.com', tenant_id: 'gone'})
    await expect(tenantHistory(db, workspace, 'never-existed', {limit: 10})).rejects.toThrow(NotFoundError)
  })

  it('pages through a long history', async () => {
    const {db} = database()
    await createTenant(db, workspace, audit, shopify('busy'))
    for (let index = 0; index < 6; index++) await updateTenant(db, workspace, audit, 'busy', {name: `Name ${index}`})
    const first = await tenantHistory(db, workspace, 'busy', {limit: 4})
    expect(first.events).toHaveLength(4)
    const second = await tenantHistory(db, workspace, 'busy', {after: first.nextCursor ?? undefined, limit: 4})
    expect(second.events).toHaveLength(3)
    expect(second.nextCursor).toBeNull()
  })

  it('keeps the audit trail append-only', async () => {
    const {db} = database()
    await createTenant(db, workspace, audit, shopify('audited'))
    await expect(sql`update events set actor = 'mallory'`.execute(db)).rejects.toThrow(/append-only/)
    await expect(sql`delete from events`.execute(db)).rejects.toThrow(/append-only/)
  })

  it('rolls the change back when its event cannot be written', async () => {
    const {db} = database()
    // An event that the database refuses (actor is NOT NULL) must take the tenant with it.
    await expect(createTenant(db, workspace, {actor: null as unknown as string, source: 'cli'}, shopify('atomic'))).rejects.toThrow()
    await expect(getTenant(db, workspace, 'atomic')).rejects.toThrow(NotFoundError)
  })

  it('enforces the field rules in the database too, for writers other than synthex', async () => {
    const {db} = database()
    await expect(
      db.insertInto('tenants').values({metadata: '{}', name: 'x', shopify_shop: 'nope', status: 'active', tenant_id: 'raw', type: 'shopify', workspace_id: workspace.id}).execute(),
    ).rejects.toThrow(/tenants_shopify_shop_format/)
  })
})
