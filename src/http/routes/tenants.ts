import {createRoute, z} from '@hono/zod-openapi'

import {TENANT_STATUSES, TENANT_TYPES} from '../../domain/tenant-fields.js'
import {createTenant, deleteTenant, getTenant, listTenants, tenantHistory, updateTenant} from '../../services/tenants/tenants.js'
import {tenantIdsReached} from '../../services/access/reach.js'
import {apiAudit, requestDb, requestWorkspace, requireTenantInReach, type ServeApp, type ServeDependencies} from '../app.js'
import {requireScope} from '../auth.js'
import {BEARER_SECURITY, ERROR_RESPONSES, ErrorSchema, inApiNames, jsonResponse, TenantInputSchema, TenantSchema, toFieldsInput} from '../tenant-schemas.js'

const WorkspaceQuery = z.object({workspace: z.string().optional().openapi({description: 'The workspace (default: default).'})})
const TenantParams = z.object({tenantId: z.string().max(64).openapi({param: {in: 'path', name: 'tenantId'}})})
const NOT_FOUND = {404: jsonResponse(ErrorSchema, 'No such tenant (or workspace) within the key\'s reach.')}

const list = createRoute({
  method: 'get',
  path: '/api/tenants',
  request: {
    query: WorkspaceQuery.extend({
      after: z.string().max(64).optional().openapi({description: 'The nextCursor of the previous page.'}),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      search: z.string().max(200).optional().openapi({description: 'Case-insensitive part of the tenant id or name.'}),
      status: z.enum(TENANT_STATUSES).optional(),
      type: z.enum(TENANT_TYPES).optional(),
    }),
  },
  responses: {200: jsonResponse(z.object({nextCursor: z.string().nullable(), tenants: z.array(TenantSchema), workspace: z.string()}), 'A page of tenants in tenant-id order.'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'List tenants (scope tenants:read)',
  tags: ['tenants'],
})

const create = createRoute({
  method: 'post',
  path: '/api/tenants',
  request: {body: {content: {'application/json': {schema: TenantInputSchema}}, required: true}, headers: z.object({'idempotency-key': z.string().max(255).optional()}), query: WorkspaceQuery},
  responses: {201: jsonResponse(TenantSchema, 'The tenant created.'), 409: jsonResponse(ErrorSchema, 'A tenant with that id exists in the workspace.'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'Create a tenant (scope tenants:write; honours Idempotency-Key)',
  tags: ['tenants'],
})

const get = createRoute({
  method: 'get',
  path: '/api/tenants/{tenantId}',
  request: {params: TenantParams, query: WorkspaceQuery},
  responses: {200: jsonResponse(TenantSchema, 'The tenant.'), ...NOT_FOUND, ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'Get a tenant (scope tenants:read)',
  tags: ['tenants'],
})

const update = createRoute({
  method: 'patch',
  path: '/api/tenants/{tenantId}',
  request: {body: {content: {'application/json': {schema: TenantInputSchema}}, required: true}, params: TenantParams, query: WorkspaceQuery},
  responses: {200: jsonResponse(z.object({changes: z.record(z.string(), z.object({from: z.string().nullable(), to: z.string().nullable()})), tenant: TenantSchema}), 'The tenant after the change, and what changed.'), ...NOT_FOUND, ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'Change a tenant (scope tenants:write)',
  tags: ['tenants'],
})

const remove = createRoute({
  method: 'delete',
  path: '/api/tenants/{tenantId}',
  request: {params: TenantParams, query: WorkspaceQuery},
  responses: {200: jsonResponse(TenantSchema, 'The tenant deleted (its history stays in the audit trail).'), ...NOT_FOUND, ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'Delete a tenant (scope tenants:write)',
  tags: ['tenants'],
})

const history = createRoute({
  method: 'get',
  path: '/api/tenants/{tenantId}/events',
  request: {params: TenantParams, query: WorkspaceQuery.extend({after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100)})},
  responses: {200: jsonResponse(z.object({events: z.array(z.record(z.string(), z.unknown())), nextCursor: z.number().nullable(), tenantId: z.string(), workspace: z.string()}), 'The tenant\'s audit trail, oldest first.'), ...NOT_FOUND, ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'A tenant\'s history (scope events:read)',
  tags: ['tenants'],
})

export function tenantRoutes(app: ServeApp, deps: ServeDependencies): void {
  app.openapi(list, async (c) => {
    const principal = requireScope(c.get('principal'), 'tenants:read')
    const query = c.req.valid('query')
    const workspace = await requestWorkspace(c, deps, principal)
    const page = await listTenants(requestDb(c, deps), workspace, {...query, tenantIds: tenantIdsReached(principal.reach, workspace.id)})
    return c.json(page, 200)
  })

  app.openapi(create, async (c) => {
    const principal = requireScope(c.get('principal'), 'tenants:write')
    const workspace = await requestWorkspace(c, deps, principal)
    const tenant = await createTenant(requestDb(c, deps), workspace, apiAudit(principal), toFieldsInput(c.req.valid('json'))).catch((error: unknown) => {
      throw inApiNames(error)
    })
    c.header('location', `/api/tenants/${encodeURIComponent(tenant.tenantId)}${workspace.slug === 'default' ? '' : `?workspace=${encodeURIComponent(workspace.slug)}`}`)
    return c.json(tenant, 201)
  })

  app.openapi(get, async (c) => {
    const principal = requireScope(c.get('principal'), 'tenants:read')
    const workspace = await requestWorkspace(c, deps, principal)
    const {tenantId} = c.req.valid('param')
    requireTenantInReach(principal, workspace, tenantId)
    return c.json(await getTenant(requestDb(c, deps), workspace, tenantId), 200)
  })

  app.openapi(update, async (c) => {
    const principal = requireScope(c.get('principal'), 'tenants:write')
    const workspace = await requestWorkspace(c, deps, principal)
    const result = await updateTenant(requestDb(c, deps), workspace, apiAudit(principal), c.req.valid('param').tenantId, toFieldsInput(c.req.valid('json'))).catch((error: unknown) => {
      throw inApiNames(error)
    })
    return c.json(result, 200)
  })

  app.openapi(remove, async (c) => {
    const principal = requireScope(c.get('principal'), 'tenants:write')
    return c.json(await deleteTenant(requestDb(c, deps), await requestWorkspace(c, deps, principal), apiAudit(principal), c.req.valid('param').tenantId), 200)
  })

  app.openapi(history, async (c) => {
    const principal = requireScope(c.get('principal'), 'events:read')
    const {after, limit} = c.req.valid('query')
    const workspace = await requestWorkspace(c, deps, principal)
    const {tenantId} = c.req.valid('param')
    requireTenantInReach(principal, workspace, tenantId)
    return c.json(await tenantHistory(requestDb(c, deps), workspace, tenantId, {after, limit}), 200)
  })
}
