import {OpenAPIHono} from '@hono/zod-openapi'
import type {Context} from 'hono'
import {bodyLimit} from 'hono/body-limit'

import type {Db} from '../db/schema.js'
import type {Keyring} from '../crypto/keyring.js'
import type {Audit} from '../services/events/events.js'
import {findWorkspace, type Workspace, workspaceNotFound} from '../services/workspaces/workspaces.js'
import {type Reach, reachesTenant, reachesWorkspace} from '../services/access/reach.js'
import type {ApiPrincipal} from '../services/api-keys/api-keys.js'
import {tenantNotFound} from '../services/tenants/tenants.js'
import {type AuthVariables, authenticate, outsideReach} from './auth.js'
import {denialRecorder, matchedRoute} from './denials.js'
import {errorBody, HttpError, toHttpError} from './http-errors.js'
import {idempotency} from './idempotency.js'
import {rateLimit} from './rate-limit.js'

/** What routes reach: the database, the keys, and what `serve` was started with. */
export interface ServeDependencies {
  readonly db: () => Db
  /** The encryption keys; `sealing`: about to encrypt (creates the embedded key file if need be). */
  readonly keyring: (options: {sealing: boolean}) => Keyring
  /** Anyone may read /api/metrics (`--public-metrics`). */
  readonly publicMetrics: boolean
  /** One line per answered request (the access log). */
  readonly log: (line: Record<string, unknown>) => void
  /** Requests a minute each key may make. */
  readonly rateLimitPerMinute: number
  /**
   * A database handle that sees only `reach`, when the database enforces it (serve running
   * under a login bound by row-level security: src/db/reach-scoped-db.ts); undefined when it
   * would not (the embedded database, an owner's login), and requests use `db`.
   */
  readonly reachDb?: (reach: Reach) => Db
}

export type ServeEnv = {
  Variables: AuthVariables & {
    /**
     * What a replay of this POST's answer under its Idempotency-Key says, when it must differ
     * from the answer: a signing secret is shown once, and the idempotency store keeps
     * answers in clear (services/api-keys/idempotency.ts), so it keeps this instead.
     */
    replayAnswer?: Record<string, unknown>
    /** The request's database handle (requestDb), made once per request. */
    requestDb?: Db
    started: number
  }
}
export type ServeApp = OpenAPIHono<ServeEnv>
export type ServeContext = Context<ServeEnv>

/** Bodies above this answer 413: a tenant or a credential is a few hundred bytes. */
export const MAX_BODY_BYTES = 1024 * 1024

/** Who made a change through the API, for the audit trail. */
export function apiAudit(principal: ApiPrincipal): Audit {
  return {actor: principal.name, source: 'api'}
}

/**
 * The request's database handle: within the caller's reach on a database that enforces it
 * (row-level security, the second line behind the checks below), else the shared one. Routes
 * read and write through it; a query that forgot its filter still sees only the caller's rows.
 */
export function requestDb(c: ServeContext, deps: ServeDependencies): Db {
  let db = c.get('requestDb')
  if (!db) {
    const principal = c.get('principal')
    db = principal && deps.reachDb ? deps.reachDb(principal.reach) : deps.db()
    c.set('requestDb', db)
  }

  return db
}

/**
 * The workspace a request addresses (`?workspace=`, default `default`). One outside the
 * caller's reach answers 404 like one that does not exist, so its existence does not leak.
 */
export async function requestWorkspace(c: ServeContext, deps: ServeDependencies, principal: ApiPrincipal, slug = c.req.query('workspace') ?? 'default'): Promise<Workspace> {
  // Read with the key (auth.ts) when the request has one: no second round trip.
  const known = c.get('requestedWorkspace')
  let workspace: Workspace
  if (known?.slug === slug) {
    if (!known.workspace) throw workspaceNotFound(slug)
    workspace = known.workspace
  } else {
    workspace = await findWorkspace(deps.db(), slug)
  }

  if (!reachesWorkspace(principal.reach, workspace.id)) throw outsideReach(workspaceNotFound(slug))
  return workspace
}

/** 404 unless the tenant is within the caller's reach (a client's own), answered as for one that does not exist. */
export function requireTenantInReach(principal: ApiPrincipal, workspace: Workspace, tenantId: string): void {
  if (!reachesTenant(principal.reach, workspace.id, tenantId)) throw outsideReach(tenantNotFound(workspace, tenantId))
}

/** JSON in: a body that is not `application/json` answers 415 before any route sees it. */
function requireJson(c: ServeContext): void {
  const type = c.req.header('content-type')
  if (!type || !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'The body must be JSON (Content-Type: application/json).')
  }
}

export function buildApp(deps: ServeDependencies, register: ReadonlyArray<(app: ServeApp, deps: ServeDependencies) => void>): ServeApp {
  const app = new OpenAPIHono<ServeEnv>({
    // Schema failures answer 422 with one issue per field, in the request's own names.
    defaultHook(result) {
      if (!result.success) {
        const issues = result.error.issues.map((issue) => ({field: issue.path.join('.') || '(body)', message: issue.message}))
        throw new HttpError(422, 'INVALID_INPUT', `Invalid input: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}.`, {details: {issues}})
      }
    },
  })

  app.use('*', async (c, next) => {
    c.set('started', performance.now())
    try {
      await next()
    } finally {
      deps.log({
        durationMs: Math.round((performance.now() - c.get('started')) * 10) / 10,
        key: c.get('principal')?.name ?? null,
        method: c.req.method,
        // The route's pattern, not the path: no tenant id or query string in the log.
        route: c.req.routePath,
        status: c.res.status,
        time: new Date().toISOString(),
      })
    }
  })

  const limitBody = bodyLimit({maxSize: MAX_BODY_BYTES, onError: () => {
    throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `The body is larger than ${MAX_BODY_BYTES / 1024} KiB.`)
  }})
  // A GET or HEAD has no body to limit; asking for one would make @hono/node-server build a
  // full fetch Request (and an AbortController) for every request: about 5% of a GET's CPU
  // in a profile under load.
  app.use('/api/*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next)))

  app.use('/api/*', async (c, next) => {
    // Shopify's webhooks are checked against their signature first (routes/webhooks.ts).
    if (['POST', 'PUT', 'PATCH'].includes(c.req.method) && c.req.path !== '/api/webhooks/shopify') {
      requireJson(c)
      // Parsed once here, so that invalid JSON answers 400 whatever the route.
      const text = await c.req.text()
      try {
        JSON.parse(text)
      } catch {
        throw new HttpError(400, 'INVALID_JSON', 'The body is not valid JSON.')
      }
    }

    return next()
  })

  // Routes that answer without a key do so with less; the others require one (requireScope).
  const open = new Set(['/api/health', '/api/openapi.json', '/api/webhooks/shopify', ...(deps.publicMetrics ? ['/api/metrics'] : [])])
  const onDenied = denialRecorder(deps.db, deps.log)
  app.use('/api/*', authenticate(deps.db, {onDenied, required: (c) => !open.has(c.req.path)}) as never)

  app.use('/api/*', rateLimit(deps.rateLimitPerMinute))
  app.use('/api/*', idempotency(deps))
  for (const route of register) route(app, deps)

  app.doc31('/api/openapi.json', {
    info: {description: 'The HTTP API of synthex serve. Authenticate with `Authorization: Bearer <key>` (keys from `synthex api-keys create`).', title: 'synthex', version: '1'},
    openapi: '3.1.0',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {scheme: 'bearer', type: 'http'})

  app.notFound((c) => c.json(errorBody(new HttpError(404, 'NOT_FOUND', 'No such route. The routes are listed in /api/openapi.json.')), 404))

  app.onError(async (error, c) => {
    const http = toHttpError(error)
    const principal = c.get('principal')
    if (http.denial && principal) {
      await onDenied({key: principal.name, method: c.req.method, reason: http.denial, role: principal.role, route: matchedRoute(c), status: http.status, user: principal.user?.email ?? null})
    }

    for (const [name, value] of Object.entries(http.headers)) c.header(name, value)
    return c.json(errorBody(http), http.status as 400)
  })

  return app
}
