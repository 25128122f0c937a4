import {createRoute, z} from '@hono/zod-openapi'

import {mayManageRole, USER_ROLES} from '../../services/access/roles.js'
import {type ApiKey, apiKeyNotFound, type ApiPrincipal, createApiKey, listApiKeys, parseScopes, revokeApiKey} from '../../services/api-keys/api-keys.js'
import {createUser, findUser, listUsers, type User, userNotFound} from '../../services/users/users.js'
import {apiAudit, requestDb, requestWorkspace, requireTenantInReach, type ServeApp, type ServeContext, type ServeDependencies} from '../app.js'
import {outsideReach, requireScope, roleForbids} from '../auth.js'
import {expiryOf} from '../expiry-input.js'
import {BEARER_SECURITY, ERROR_RESPONSES, ErrorSchema, jsonResponse} from '../tenant-schemas.js'

/*
 * Users and their keys over HTTP. A superadmin manages anyone; an admin creates client users
 * for tenants in its workspaces and their keys, and sees and revokes only those (nothing
 * above client: 403). A client has no users:* scope in its role (403 throughout).
 */

const UserTenantSchema = z.object({tenantId: z.string().max(64), workspace: z.string().max(63)})
const UserSchema = z
  .object({
    activeKeys: z.number().int(),
    createdAt: z.string().datetime(),
    createdBy: z.string(),
    deactivatedAt: z.string().datetime().nullable(),
    email: z.string(),
    role: z.enum(USER_ROLES),
    tenants: z.array(UserTenantSchema),
    workspaces: z.array(z.string()),
  })
  .openapi('User')
const ApiKeySchema = z
  .object({
    createdAt: z.string().datetime(),
    createdBy: z.string(),
    expiresAt: z.string().datetime().nullable(),
    lastUsedAt: z.string().datetime().nullable(),
    legacy: z.boolean().openapi({description: 'Made before users existed: acts as a superadmin.'}),
    name: z.string(),
    prefix: z.string().openapi({description: 'The key\'s first characters, to recognise it; never the key.'}),
    revokedAt: z.string().datetime().nullable(),
    role: z.enum(USER_ROLES),
    scopes: z.array(z.string()),
    user: z.string().nullable(),
    workspace: z.string().nullable(),
  })
  .openapi('ApiKey')

const listUsersRoute = createRoute({
  method: 'get',
  path: '/api/users',
  responses: {200: jsonResponse(z.object({users: z.array(UserSchema)}), 'Every user (superadmin), or the client users in the caller\'s workspaces (admin).'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'List users (scope users:read)',
  tags: ['users'],
})

const createUserRoute = createRoute({
  method: 'post',
  path: '/api/users',
  request: {
    body: {
      content: {
        'application/json': {
          schema: z
            .object({
              email: z.string().max(254),
              role: z.enum(USER_ROLES),
              tenants: z.array(UserTenantSchema).max(1000).optional().openapi({description: 'A client\'s tenants.'}),
              workspaces: z.array(z.string().max(63)).max(1000).optional().openapi({description: 'An admin\'s workspaces (slugs).'}),
            })
            .strict()
            .openapi('UserInput'),
        },
      },
      required: true,
    },
  },
  responses: {201: jsonResponse(UserSchema, 'The user created.'), 409: jsonResponse(ErrorSchema, 'A user has that address.'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'Create a user (scope users:write; an admin creates clients of its tenants; honours Idempotency-Key)',
  tags: ['users'],
})

const listKeysRoute = createRoute({
  method: 'get',
  path: '/api/api-keys',
  responses: {200: jsonResponse(z.object({apiKeys: z.array(ApiKeySchema)}), 'Every key (superadmin), or the keys of the caller\'s client users (admin); never a key itself.'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'List API keys (scope users:read)',
  tags: ['users'],
})

const createKeyRoute = createRoute({
  method: 'post',
  path: '/api/api-keys',
  request: {
    body: {
      content: {
        'application/json': {
          schema: z
            .object({
              expiresAt: z.string().max(64).optional(),
              expiresIn: z.string().max(32).optional().openapi({description: 'A duration from now, e.g. 90d.'}),
              name: z.string().max(63),
              scopes: z.array(z.string().max(32)).min(1).max(50).openapi({description: 'Scopes, or ["all"]; the key may do what they and its user\'s role both allow.'}),
              user: z.string().max(254).openapi({description: 'The address of the user the key acts for.'}),
            })
            .strict()
            .openapi('ApiKeyInput'),
        },
      },
      required: true,
    },
  },
  responses: {
    201: jsonResponse(z.object({apiKey: ApiKeySchema, key: z.string().nullable().openapi({description: 'The key, shown once: null when an Idempotency-Key replay answers.'})}), 'The key made.'),
    404: jsonResponse(ErrorSchema, 'No such user within the caller\'s reach.'),
    409: jsonResponse(ErrorSchema, 'A key has that name, or the user is deactivated.'),
    ...ERROR_RESPONSES,
  },
  security: BEARER_SECURITY,
  summary: 'Make an API key for a user (scope users:write; honours Idempotency-Key)',
  tags: ['users'],
})

const revokeKeyRoute = createRoute({
  method: 'delete',
  path: '/api/api-keys/{name}',
  request: {params: z.object({name: z.string().max(63).openapi({param: {in: 'path', name: 'name'}})})},
  responses: {200: jsonResponse(ApiKeySchema, 'The key, revoked (revoking twice is not an error).'), 404: jsonResponse(ErrorSchema, 'No such key within the caller\'s reach.'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'Revoke an API key (scope users:write)',
  tags: ['users'],
})

/** The users a caller manages: everyone for a superadmin; an admin's clients (every tenant within its workspaces). */
async function managedUsers(c: ServeContext, deps: ServeDependencies, principal: ApiPrincipal): Promise<User[]> {
  const db = requestDb(c, deps)
  if (principal.reach.kind === 'all') return listUsers(db)
  const workspaceIds = principal.reach.kind === 'workspaces' ? [...principal.reach.workspaceIds] : []
  return listUsers(db, {role: 'client', workspaceIds})
}

/** The keys a caller manages: every key for a superadmin; its managed users' keys, asked for by user, for an admin. */
async function managedKeys(c: ServeContext, deps: ServeDependencies, principal: ApiPrincipal): Promise<ApiKey[]> {
  const db = requestDb(c, deps)
  if (principal.reach.kind === 'all') return listApiKeys(db)
  return listApiKeys(db, {userIds: (await managedUsers(c, deps, principal)).map((user) => user.id)})
}

/** A key for the JSON answer: every field but the key itself, which is never stored. */
function toKeyAnswer(apiKey: ApiKey): z.infer<typeof ApiKeySchema> {
  return JSON.parse(JSON.stringify(apiKey)) as z.infer<typeof ApiKeySchema>
}

export function userRoutes(app: ServeApp, deps: ServeDependencies): void {
  app.openapi(listUsersRoute, async (c) => {
    const principal = requireScope(c.get('principal'), 'users:read')
    return c.json({users: JSON.parse(JSON.stringify(await managedUsers(c, deps, principal))) as Array<z.infer<typeof UserSchema>>}, 200)
  })

  app.openapi(createUserRoute, async (c) => {
    const principal = requireScope(c.get('principal'), 'users:write')
    const body = c.req.valid('json')
    if (!mayManageRole(principal.role, body.role)) throw roleForbids(principal, `create ${body.role} users`)
    // Each workspace and tenant named must be within the caller's reach (404 otherwise).
    for (const slug of body.workspaces ?? []) await requestWorkspace(c, deps, principal, slug)
    for (const tenant of body.tenants ?? []) requireTenantInReach(principal, await requestWorkspace(c, deps, principal, tenant.workspace), tenant.tenantId)
    const user = await createUser(requestDb(c, deps), apiAudit(principal), body)
    return c.json(JSON.parse(JSON.stringify(user)) as z.infer<typeof UserSchema>, 201)
  })

  app.openapi(listKeysRoute, async (c) => {
    const principal = requireScope(c.get('principal'), 'users:read')
    return c.json({apiKeys: (await managedKeys(c, deps, principal)).map((key) => toKeyAnswer(key))}, 200)
  })

  app.openapi(createKeyRoute, async (c) => {
    const principal = requireScope(c.get('principal'), 'users:write')
    const body = c.req.valid('json')
    const db = requestDb(c, deps)
    const target = await findUser(db, body.user)
    if (!mayManageRole(principal.role, target.role)) throw roleForbids(principal, `make keys for ${target.role} users`)
    if (principal.reach.kind !== 'all' && !(await managedUsers(c, deps, principal)).some((user) => user.id === target.id)) throw outsideReach(userNotFound(body.user.trim()))
    const {apiKey, key} = await createApiKey(db, apiAudit(principal), {expiresAt: expiryOf(body, new Date()), name: body.name, scopes: parseScopes(body.scopes.join(',')), user: target.email})
    // A replay under the same Idempotency-Key answers without the key: it is shown once.
    c.set('replayAnswer', {apiKey: toKeyAnswer(apiKey), key: null})
    return c.json({apiKey: toKeyAnswer(apiKey), key}, 201)
  })

  app.openapi(revokeKeyRoute, async (c) => {
    const principal = requireScope(c.get('principal'), 'users:write')
    const {name} = c.req.valid('param')
    const db = requestDb(c, deps)
    // A key that is not the caller's to manage answers as one that does not exist.
    if (principal.reach.kind !== 'all' && !(await managedKeys(c, deps, principal)).some((key) => key.name === name)) throw outsideReach(apiKeyNotFound(name))

    return c.json(toKeyAnswer(await revokeApiKey(db, apiAudit(principal), name)), 200)
  })
}
