import {createRoute, z} from '@hono/zod-openapi'

import {SEVERITIES} from '../../domain/severity.js'
import {listAlerts} from '../../services/alerts/alerts.js'
import {listEvents} from '../../services/events/events.js'
import {requestWorkspace, type ServeApp, type ServeDependencies} from '../app.js'
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
  responses: {200: jsonResponse(z.object({key: z.object({name: z.string(), prefix: z.string()}), scopes: z.array(z.string()), workspace: z.string().nullable()}), 'The key making the request and what it may do.'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'Who am I (any key)',
  tags: ['keys'],
})

export function activityRoutes(app: ServeApp, deps: ServeDependencies): void {
  app.openapi(alerts, async (c) => {
    const principal = requireScope(c.get('principal'), 'alerts:read')
    const {limit, severity, workspace} = c.req.valid('query')
    // Alerts span workspaces: one named, or the key's own, narrows them.
    const only = workspace !== undefined || principal.workspaceId !== null ? (await requestWorkspace(c, deps, principal)).slug : undefined
    const firing = await listAlerts(deps.db(), {limit: only ? 5000 : limit, severity, state: 'firing'})
    return c.json({alerts: (only ? firing.filter((alert) => alert.workspace === only) : firing).slice(0, limit)}, 200)
  })

  app.openapi(events, async (c) => {
    const principal = requireScope(c.get('principal'), 'events:read')
    const {actor, after, limit, type} = c.req.valid('query')
    return c.json(await listEvents(deps.db(), await requestWorkspace(c, deps, principal), {actor, after, limit, type}), 200)
  })

  app.openapi(me, (c) => {
    const principal = c.get('principal')
    if (!principal) throw new Error('unreachable: /api/me requires a key')
    return c.json({key: {name: principal.name, prefix: principal.prefix}, scopes: [...principal.scopes].sort(), workspace: principal.workspace}, 200)
  })
}
