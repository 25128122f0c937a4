import {expect, it} from 'vitest'

import {ConflictError, InvalidInputError, NotFoundError} from '../../src/errors/input-errors.js'
import {createTenant} from '../../src/services/tenants/tenants.js'
import {createWorkspace, findWorkspace, listWorkspaces} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend} from '../helpers/backends.js'

const audit = {actor: 'alice', source: 'cli'}

describeEachBackend('workspaces', (database) => {
  it('always has a default workspace', async () => {
    expect(await findWorkspace(database().db, 'default')).toMatchObject({slug: 'default'})
  })

  it('creates workspaces, lists them with tenant counts, and audits the creation', async () => {
    const {db} = database()
    const eu = await createWorkspace(db, audit, {name: 'Acme Europe', slug: 'acme-eu'})
    expect(eu).toMatchObject({name: 'Acme Europe', slug: 'acme-eu'})
    await createTenant(db, eu, audit, {name: 'DE', shopify_shop: 'de.myshopify.com', tenant_id: 'de', type: 'shopify'})
    const listed = await listWorkspaces(db)
    expect(listed.map((workspace) => [workspace.slug, workspace.tenantCount])).toContainEqual(['acme-eu', 1])
    const events = await db.selectFrom('events').selectAll().where('type', '=', 'workspace.created').execute()
    expect(events.map((event) => event.aggregate_id)).toContain('acme-eu')
  })

  it('refuses bad slugs and duplicates, and says how to create a missing workspace', async () => {
    const {db} = database()
    await expect(createWorkspace(db, audit, {slug: 'Bad Slug'})).rejects.toThrow(InvalidInputError)
    await createWorkspace(db, audit, {slug: 'twice'})
    await expect(createWorkspace(db, audit, {slug: 'twice'})).rejects.toThrow(ConflictError)
    const missing = await findWorkspace(db, 'nowhere').catch((error: unknown) => error)
    expect(missing).toBeInstanceOf(NotFoundError)
    expect((missing as NotFoundError).hint).toContain('synthex tenant workspaces create nowhere')
  })
})
