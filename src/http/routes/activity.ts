import {createRoute, z} from '@hono/zod-openapi'

import {SEVERITIES} from '../../domain/severity.js'
import {listAlerts} from '../../services/alerts/alerts.js'
import {listEvents} from '../../services/events/events.js'
import {describeReach, tenantIdsReached} from '../../services/access/reach.js'
import {workspaceSlugs} from '../../services/workspaces/workspaces.js'
import {requestDb, requestWorkspace, type ServeApp, type ServeDependencies} from '../app.js'
import {requireScope} from '../auth.js'
import {BEARER_SECURITY, ERROR_RESPONSES, jsonResponse} from '../tenant-schemas.js'


const alerts = createRoute({
  method: 'get',
  path: '/api/alerts',
  request: {query: z.object({limit: z.coerce.number().int().min(1).max(5000).default(100), severity: z.enum(SEVERITIES).optional(), workspace: z.string().optional()})},
  responses: {200: jsonResponse(z.object({alerts: z.array(z.record(z.string(), z.unknown()))}), 'Firing alerts, most severe first.'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'Firing alerts (scope alerts:read)',
  tags: ['alerts'],
})

const events = createRoute({
  method: 'get',
  path: '/api/events',
  request: {
    query: z.object({
      actor: z.string().max(200).optional(),
      after: z.coerce.number().int().min(0).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      type: z.string().max(100).optional(),
      workspace: z.string().optional(),
    }),
  },
  responses: {200: jsonResponse(z.object({events: z.array(z.record(z.string(), z.unknown())), nextCursor: z.number().nullable(), workspace: z.string()}), 'The audit trail, oldest first.'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'The audit trail (scope events:read)',
  tags: ['events'],
})

const me = createRoute({
  method: 'get',
  path: '/api/me',
  responses: {
    200: jsonResponse(
      z.object({
        key: z.object({name: z.string(), prefix: z.string(), scopes: z.array(z.string()).openapi({description: 'The key\'s own scopes, as made.'}), workspace: z.string().nullable()}),
        reach: z.object({all: z.boolean(), tenants: z.array(z.object({tenantId: z.string(), workspace: z.string()})).optional(), workspaces: z.array(z.string()).optional()}),
        role: z.enum(['superadmin', 'admin', 'client']),
        scopes: z.array(z.string()).openapi({description: 'What the key may do: its scopes within its user\'s role.'}),
        user: z.object({email: z.string()}).nullable().openapi({description: 'Null for a key made before users existed: it acts as a superadmin.'}),
        workspace: z.string().nullable(),
      }),
      'The key making the request, its user, role, scopes and reach.',
    ),
    ...ERROR_RESPONSES,
  },
  security: BEARER_SECURITY,
  summary: 'Who am I (any key)',
  tags: ['keys'],
})

export function activityRoutes(app: ServeApp, deps: ServeDependencies): void {
  app.openapi(alerts, async (c) => {
    const principal = requireScope(c.get('principal'), 'alerts:read')
    const {limit, severity, workspace} = c.req.valid('query')
    // Alerts span workspaces: one named narrows them; the caller's reach always does.
    const only = workspace === undefined ? undefined : await requestWorkspace(c, deps, principal)
    const firing = await listAlerts(requestDb(c, deps), {limit, reach: principal.reach, severity, state: 'firing', workspaceId: only?.id})
    return c.json({alerts: firing}, 200)
  })

  app.openapi(events, async (c) => {
    const principal = requireScope(c.get('principal'), 'events:read')
    const {actor, after, limit, type} = c.req.valid('query')
    const workspace = await requestWorkspace(c, deps, principal)
    // Fleet-wide events (keys, users, channels) are a superadmin's; a client reads its own tenants' events.
    const query = {actor, after, fleetWide: principal.role === 'superadmin', limit, tenantIds: tenantIdsReached(principal.reach, workspace.id), type}
    return c.json(await listEvents(requestDb(c, deps), workspace, query), 200)
  })

  app.openapi(me, async (c) => {
    const principal = c.get('principal')
    if (!principal) throw new Error('unreachable: /api/me requires a key')
    const {reach} = principal
    const ids = reach.kind === 'workspaces' ? [...reach.workspaceIds] : reach.kind === 'tenants' ? reach.tenants.map((tenant) => tenant.workspaceId) : []
    const slugs = await workspaceSlugs(deps.db(), [...new Set(ids)])
    return c.json(
      {
        key: {name: principal.name, prefix: principal.prefix, scopes: [...principal.keyScopes].sort(), workspace: principal.workspace},
        reach: describeReach(reach, slugs) as {all: boolean},
        role: principal.role,
        scopes: [...principal.scopes].sort(),
        user: principal.user && {email: principal.user.email},
        // Kept from before users: the workspace the key is limited to.
        workspace: principal.workspace,
      },
      200,
    )
  })
}
