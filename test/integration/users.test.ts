import {expect, it} from 'vitest'

import type {Db} from '../../src/db/schema.js'
import {ConflictError, InvalidInputError, NotFoundError} from '../../src/errors/input-errors.js'
import {authenticateApiKey, createApiKey, listApiKeys} from '../../src/services/api-keys/api-keys.js'
import {createTenant} from '../../src/services/tenants/tenants.js'
import {assignUser, createUser, deactivateUser, findUser, listUsers} from '../../src/services/users/users.js'
import {createWorkspace, findWorkspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend} from '../helpers/backends.js'

const audit = {actor: 'alice', source: 'cli'}

/** A workspace with these tenants, all named after the test that made them (the suite shares one database). */
async function workspaceWith(db: Db, slug: string, tenantIds: readonly string[] = []): Promise<string> {
  const workspace = await createWorkspace(db, audit, {slug})
  for (const tenantId of tenantIds) await createTenant(db, workspace, audit, {name: tenantId, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify'})
  return workspace.id
}

/** The audit events about these users (by address), oldest first, as type and data. */
async function userEvents(db: Db, emails: readonly string[]) {
  const rows = await db.selectFrom('events').selectAll().where('aggregate_type', '=', 'user').where('aggregate_id', 'in', [...emails]).orderBy('id').execute()
  return rows.map((row) => ({actor: row.actor, data: row.data, type: row.type, workspaceId: row.workspace_id}))
}

describeEachBackend('users', (database) => {
  it('creates superadmins, admins with workspaces and clients with tenants, audited, and lists them', async () => {
    const {db} = database()
    const euId = await workspaceWith(db, 'cr-eu', ['cr-shop', 'cr-gmc'])
    const usId = await workspaceWith(db, 'cr-us')

    const owner = await createUser(db, audit, {email: '  Cr-Owner@Example.com ', role: 'superadmin'})
    expect(owner).toMatchObject({activeKeys: 0, createdBy: 'alice', deactivatedAt: null, email: 'Cr-Owner@Example.com', role: 'superadmin', tenants: [], workspaces: []})
    const admin = await createUser(db, audit, {email: 'cr-am@agency.example', role: 'admin', workspaces: ['cr-us', 'cr-eu', 'cr-us']})
    expect(admin.workspaces).toEqual(['cr-eu', 'cr-us'])
    const client = await createUser(db, audit, {email: 'cr-ops@acme.example', role: 'client', tenants: [{tenantId: 'cr-shop', workspace: 'cr-eu'}, {tenantId: 'cr-gmc', workspace: 'cr-eu'}]})
    expect(client.tenants).toEqual([
      {tenantId: 'cr-gmc', workspace: 'cr-eu'},
      {tenantId: 'cr-shop', workspace: 'cr-eu'},
    ])

    // Found whatever the case of the address asked for; kept as it was given.
    expect((await findUser(db, 'cr-owner@example.COM')).email).toBe('Cr-Owner@Example.com')
    const listed = (await listUsers(db)).filter((user) => user.email.toLowerCase().startsWith('cr-'))
    expect(listed.map((user) => `${user.email} ${user.role}`)).toEqual(['cr-am@agency.example admin', 'cr-ops@acme.example client', 'Cr-Owner@Example.com superadmin'])
    expect((await listUsers(db, {role: 'client'})).map((user) => user.email)).toContain('cr-ops@acme.example')
    expect((await listUsers(db, {role: 'client'})).every((user) => user.role === 'client')).toBe(true)

    expect(await userEvents(db, ['Cr-Owner@Example.com', 'cr-am@agency.example', 'cr-ops@acme.example'])).toEqual([
      {actor: 'alice', data: {email: 'Cr-Owner@Example.com', role: 'superadmin'}, type: 'user.created', workspaceId: null},
      {actor: 'alice', data: {email: 'cr-am@agency.example', role: 'admin'}, type: 'user.created', workspaceId: null},
      {actor: 'alice', data: {email: 'cr-am@agency.example', workspace: 'cr-us'}, type: 'user.assigned', workspaceId: usId},
      {actor: 'alice', data: {email: 'cr-am@agency.example', workspace: 'cr-eu'}, type: 'user.assigned', workspaceId: euId},
      {actor: 'alice', data: {email: 'cr-ops@acme.example', role: 'client'}, type: 'user.created', workspaceId: null},
      {actor: 'alice', data: {email: 'cr-ops@acme.example', tenantId: 'cr-shop', workspace: 'cr-eu'}, type: 'user.assigned', workspaceId: euId},
      {actor: 'alice', data: {email: 'cr-ops@acme.example', tenantId: 'cr-gmc', workspace: 'cr-eu'}, type: 'user.assigned', workspaceId: euId},
    ])
  })

  it('refuses a taken address whatever its case, a malformed one, an unknown role and assignments the role may not hold, writing nothing', async () => {
    const {db} = database()
    await workspaceWith(db, 'rf-eu', ['rf-shop'])
    await createUser(db, audit, {email: 'rf-taken@example.com', role: 'admin'})
    await expect(createUser(db, audit, {email: 'RF-TAKEN@example.com', role: 'client'})).rejects.toThrow(ConflictError)

    for (const email of ['', 'rf-no-at', 'rf@two@example.com', '@example.com', 'rf-x@', 'rf x@example.com', 'rf-\u0007@example.com', 'rf-\u202e@example.com', `${'r'.repeat(250)}@e.co`]) {
      const refusal = await createUser(db, audit, {email, role: 'client'}).catch((error: unknown) => error)
      expect(refusal, JSON.stringify(email)).toBeInstanceOf(InvalidInputError)
      expect((refusal as InvalidInputError).issues.map((issue) => issue.field)).toEqual(['email'])
    }

    await expect(createUser(db, audit, {email: 'rf-king@example.com', role: 'king'})).rejects.toThrow(/role: must be one of superadmin, admin, client/)
    await expect(createUser(db, audit, {email: 'rf-c@example.com', role: 'client', workspaces: ['rf-eu']})).rejects.toThrow(/a client is assigned tenants, not workspaces/)
    await expect(createUser(db, audit, {email: 'rf-a@example.com', role: 'admin', tenants: [{tenantId: 'rf-shop', workspace: 'rf-eu'}]})).rejects.toThrow(/an admin is assigned workspaces, not tenants/)
    await expect(createUser(db, audit, {email: 'rf-s@example.com', role: 'superadmin', workspaces: ['rf-eu']})).rejects.toThrow(/superadmin, who reaches every workspace/)
    // An unknown workspace or tenant rolls the whole creation back.
    await expect(createUser(db, audit, {email: 'rf-w@example.com', role: 'admin', workspaces: ['rf-eu', 'rf-nowhere']})).rejects.toThrow(NotFoundError)
    await expect(createUser(db, audit, {email: 'rf-t@example.com', role: 'client', tenants: [{tenantId: 'rf-none', workspace: 'rf-eu'}]})).rejects.toThrow(/Tenant "rf-none" does not exist in workspace "rf-eu"/)

    const left = await db.selectFrom('users').select('email').where('email', 'ilike', 'rf-%').execute()
    expect(left.map((row) => row.email)).toEqual(['rf-taken@example.com'])
    expect(await userEvents(db, ['rf-w@example.com', 'rf-t@example.com', 'RF-TAKEN@example.com'])).toEqual([])
    await expect(findUser(db, 'rf-nobody@example.com')).rejects.toThrow(expect.objectContaining({hint: expect.stringContaining('synthex users list')}))
  })

  it('assigns workspaces to admins and tenants to clients, once, and refuses the rest', async () => {
    const {db} = database()
    const euId = await workspaceWith(db, 'as-eu', ['as-shop'])
    await workspaceWith(db, 'as-us', ['as-shop'])
    await createUser(db, audit, {email: 'as-am@example.com', role: 'admin'})
    await createUser(db, audit, {email: 'as-ops@example.com', role: 'client'})
    await createUser(db, audit, {email: 'as-owner@example.com', role: 'superadmin'})

    const first = await assignUser(db, audit, 'AS-AM@example.com', {workspace: 'as-eu'})
    expect(first).toMatchObject({assigned: true, user: {workspaces: ['as-eu']}})
    expect((await assignUser(db, audit, 'as-am@example.com', {workspace: 'as-eu'})).assigned).toBe(false)
    // The same tenant id in two workspaces: two tenants.
    await assignUser(db, audit, 'as-ops@example.com', {tenant: {tenantId: 'as-shop', workspace: 'as-eu'}})
    const both = await assignUser(db, audit, 'as-ops@example.com', {tenant: {tenantId: 'as-shop', workspace: 'as-us'}})
    expect(both.user.tenants).toEqual([
      {tenantId: 'as-shop', workspace: 'as-eu'},
      {tenantId: 'as-shop', workspace: 'as-us'},
    ])
    expect((await assignUser(db, audit, 'as-ops@example.com', {tenant: {tenantId: 'as-shop', workspace: 'as-us'}})).assigned).toBe(false)

    await expect(assignUser(db, audit, 'as-am@example.com', {tenant: {tenantId: 'as-shop', workspace: 'as-eu'}})).rejects.toThrow(InvalidInputError)
    await expect(assignUser(db, audit, 'as-ops@example.com', {workspace: 'as-eu'})).rejects.toThrow(InvalidInputError)
    await expect(assignUser(db, audit, 'as-owner@example.com', {workspace: 'as-eu'})).rejects.toThrow(/superadmin, who reaches every workspace and tenant and needs no assignment/)
    await expect(assignUser(db, audit, 'as-am@example.com', {workspace: 'as-nowhere'})).rejects.toThrow(NotFoundError)
    await expect(assignUser(db, audit, 'as-ops@example.com', {tenant: {tenantId: 'as-none', workspace: 'as-eu'}})).rejects.toThrow(NotFoundError)
    await expect(assignUser(db, audit, 'as-nobody@example.com', {workspace: 'as-eu'})).rejects.toThrow(NotFoundError)

    const assigned = (await userEvents(db, ['as-am@example.com', 'as-ops@example.com'])).filter((event) => event.type === 'user.assigned')
    expect(assigned).toEqual([
      {actor: 'alice', data: {email: 'as-am@example.com', workspace: 'as-eu'}, type: 'user.assigned', workspaceId: euId},
      {actor: 'alice', data: {email: 'as-ops@example.com', tenantId: 'as-shop', workspace: 'as-eu'}, type: 'user.assigned', workspaceId: euId},
      {actor: 'alice', data: {email: 'as-ops@example.com', tenantId: 'as-shop', workspace: 'as-us'}, type: 'user.assigned', workspaceId: (await findWorkspace(db, 'as-us')).id},
    ])
  })

  it('lists, for an admin of some workspaces, only the users assigned within them', async () => {
    const {db} = database()
    const inId = await workspaceWith(db, 'wf-in', ['wf-a', 'wf-b'])
    await workspaceWith(db, 'wf-out', ['wf-c'])
    await createUser(db, audit, {email: 'wf-inside@example.com', role: 'client', tenants: [{tenantId: 'wf-a', workspace: 'wf-in'}, {tenantId: 'wf-b', workspace: 'wf-in'}]})
    await createUser(db, audit, {email: 'wf-straddle@example.com', role: 'client', tenants: [{tenantId: 'wf-a', workspace: 'wf-in'}, {tenantId: 'wf-c', workspace: 'wf-out'}]})
    await createUser(db, audit, {email: 'wf-admin-in@example.com', role: 'admin', workspaces: ['wf-in']})
    await createUser(db, audit, {email: 'wf-admin-both@example.com', role: 'admin', workspaces: ['wf-in', 'wf-out']})
    await createUser(db, audit, {email: 'wf-unassigned@example.com', role: 'client'})
    await createUser(db, audit, {email: 'wf-owner@example.com', role: 'superadmin'})

    const within = await listUsers(db, {workspaceIds: [inId]})
    expect(within.map((user) => user.email)).toEqual(['wf-admin-in@example.com', 'wf-inside@example.com'])
    expect((await listUsers(db, {role: 'client', workspaceIds: [inId]})).map((user) => user.email)).toEqual(['wf-inside@example.com'])
    expect(await listUsers(db, {workspaceIds: []})).toEqual([])
  })

  it('deactivates a user once: its keys stop with reason deactivated, and it gets no new key', async () => {
    const {db} = database()
    await workspaceWith(db, 'dx-eu', ['dx-shop'])
    await createUser(db, audit, {email: 'dx-ops@example.com', role: 'client', tenants: [{tenantId: 'dx-shop', workspace: 'dx-eu'}]})
    const {key} = await createApiKey(db, audit, {expiresAt: null, name: 'dx-ops-key', scopes: ['tenants:read'], user: 'DX-OPS@example.com'})
    expect((await findUser(db, 'dx-ops@example.com')).activeKeys).toBe(1)
    expect((await authenticateApiKey(db, key)).ok).toBe(true)

    const deactivated = await deactivateUser(db, audit, 'dx-ops@example.com')
    expect(deactivated.deactivatedAt).toBeInstanceOf(Date)
    expect(deactivated.activeKeys).toBe(0)
    const again = await deactivateUser(db, audit, 'Dx-Ops@example.com')
    expect(again.deactivatedAt).toEqual(deactivated.deactivatedAt)
    expect((await userEvents(db, ['dx-ops@example.com'])).filter((event) => event.type === 'user.deactivated')).toEqual([
      {actor: 'alice', data: {email: 'dx-ops@example.com', role: 'client'}, type: 'user.deactivated', workspaceId: null},
    ])

    const refused = await authenticateApiKey(db, key)
    expect(refused).toMatchObject({key: {name: 'dx-ops-key', role: 'client', user: {email: 'dx-ops@example.com'}}, ok: false, reason: 'deactivated'})
    await expect(createApiKey(db, audit, {expiresAt: null, name: 'dx-ops-key-2', scopes: ['tenants:read'], user: 'dx-ops@example.com'})).rejects.toThrow(ConflictError)
    await expect(createApiKey(db, audit, {expiresAt: null, name: 'dx-ghost-key', scopes: ['tenants:read'], user: 'dx-ghost@example.com'})).rejects.toThrow(NotFoundError)
    await expect(deactivateUser(db, audit, 'dx-ghost@example.com')).rejects.toThrow(NotFoundError)
  })

  it("gives an admin's key the admin's role, its workspaces' reach and its scopes within the role; lists keys with user and role", async () => {
    const {db} = database()
    const eu = await workspaceWith(db, 'pk-eu', ['pk-shop'])
    const us = await workspaceWith(db, 'pk-us')
    await workspaceWith(db, 'pk-other')
    const admin = await createUser(db, audit, {email: 'pk-am@example.com', role: 'admin', workspaces: ['pk-eu', 'pk-us']})
    const client = await createUser(db, audit, {email: 'pk-ops@example.com', role: 'client', tenants: [{tenantId: 'pk-shop', workspace: 'pk-eu'}]})
    const adminKey = await createApiKey(db, audit, {expiresAt: null, name: 'pk-admin', scopes: ['metrics:read', 'tenants:read', 'users:write', 'webhooks:write'], user: 'pk-am@example.com'})
    const clientKey = await createApiKey(db, audit, {expiresAt: null, name: 'pk-client', scopes: ['credentials:write', 'tenants:read', 'tenants:write'], user: 'pk-ops@example.com'})
    await createApiKey(db, audit, {expiresAt: null, name: 'pk-legacy', scopes: ['health:read']})

    const adminAuth = await authenticateApiKey(db, adminKey.key)
    if (!adminAuth.ok) throw new Error(`the admin's key was refused: ${adminAuth.reason}`)
    expect(adminAuth.principal.role).toBe('admin')
    expect(adminAuth.principal.user).toEqual({email: 'pk-am@example.com', id: admin.id})
    expect(adminAuth.principal.reach).toEqual({kind: 'workspaces', workspaceIds: new Set([eu, us])})
    expect([...adminAuth.principal.scopes].sort()).toEqual(['tenants:read', 'users:write'])
    expect([...adminAuth.principal.keyScopes].sort()).toEqual(['metrics:read', 'tenants:read', 'users:write', 'webhooks:write'])

    const clientAuth = await authenticateApiKey(db, clientKey.key)
    if (!clientAuth.ok) throw new Error(`the client's key was refused: ${clientAuth.reason}`)
    expect(clientAuth.principal.role).toBe('client')
    expect(clientAuth.principal.reach).toMatchObject({kind: 'tenants', tenants: [{tenantId: 'pk-shop', workspaceId: eu}]})
    expect([...clientAuth.principal.scopes].sort()).toEqual(['credentials:write', 'tenants:read'])

    const keys = (await listApiKeys(db)).filter((key) => key.name.startsWith('pk-'))
    expect(keys.map((key) => ({legacy: key.legacy, name: key.name, role: key.role, user: key.user}))).toEqual([
      {legacy: false, name: 'pk-admin', role: 'admin', user: 'pk-am@example.com'},
      {legacy: false, name: 'pk-client', role: 'client', user: 'pk-ops@example.com'},
      {legacy: true, name: 'pk-legacy', role: 'superadmin', user: null},
    ])
    expect((await listApiKeys(db, {userIds: [client.id]})).map((key) => key.name)).toEqual(['pk-client'])
    expect(await listApiKeys(db, {userIds: []})).toEqual([])

    const created = await db.selectFrom('events').select('data').where('type', '=', 'api_key.created').where('aggregate_id', 'in', ['pk-admin', 'pk-legacy']).orderBy('id').execute()
    expect(created.map((row) => ({role: row.data.role, user: row.data.user}))).toEqual([
      {role: 'admin', user: 'pk-am@example.com'},
      {role: 'superadmin', user: null},
    ])
  })
})
