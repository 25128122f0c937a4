import {createRoute, z} from '@hono/zod-openapi'

import {InvalidInputError} from '../../errors/input-errors.js'
import {CREDENTIAL_SERVICES, DEFAULT_LABEL, listCredentials, MAX_SECRET_BYTES, rotateCredential, setCredential} from '../../services/credentials/credentials.js'
import {getTenant} from '../../services/tenants/tenants.js'
import {apiAudit, requestDb, requestWorkspace, requireTenantInReach, type ServeApp, type ServeDependencies} from '../app.js'
import {requireScope} from '../auth.js'
import {expiryOf} from '../expiry-input.js'
import {BEARER_SECURITY, ERROR_RESPONSES, ErrorSchema, jsonResponse} from '../tenant-schemas.js'

const WorkspaceQuery = z.object({workspace: z.string().optional()})
const TenantParams = z.object({tenantId: z.string().max(64).openapi({param: {in: 'path', name: 'tenantId'}})})

const CredentialSchema = z
  .object({
    createdAt: z.string().datetime(),
    daysLeft: z.number().nullable(),
    expiresAt: z.string().datetime().nullable(),
    fingerprint: z.string().openapi({description: 'A short hash to recognise the value by; never the value.'}),
    keyId: z.string(),
    label: z.string(),
    revokedAt: z.string().datetime().nullable(),
    rotatedAt: z.string().datetime().nullable(),
    service: z.enum(CREDENTIAL_SERVICES),
    status: z.string(),
    tenantId: z.string(),
    timeLeft: z.string().nullable(),
    version: z.number().int(),
    workspace: z.string(),
  })
  .openapi('Credential')

const list = createRoute({
  method: 'get',
  path: '/api/tenants/{tenantId}/credentials',
  request: {params: TenantParams, query: WorkspaceQuery},
  responses: {200: jsonResponse(z.object({credentials: z.array(CredentialSchema)}), 'The tenant\'s active credentials: metadata only, never a value.'), 404: jsonResponse(ErrorSchema, 'No such tenant.'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'A tenant\'s credentials, metadata only (scope credentials:read)',
  tags: ['credentials'],
})

const put = createRoute({
  method: 'put',
  path: '/api/tenants/{tenantId}/credentials/{service}',
  request: {
    body: {
      content: {
        'application/json': {
          schema: z
            .object({
              expiresAt: z.string().max(64).optional().openapi({description: 'ISO 8601, e.g. 2027-06-30 or 2027-06-30T12:00:00Z.'}),
              expiresIn: z.string().max(32).optional().openapi({description: 'A duration from now, e.g. 90d.'}),
              label: z.string().max(64).optional(),
              value: z.string().min(1).openapi({description: 'The secret. Stored encrypted; never returned.'}),
            })
            .strict()
            .openapi('CredentialInput'),
        },
      },
      required: true,
    },
    params: TenantParams.extend({service: z.enum(CREDENTIAL_SERVICES).openapi({param: {in: 'path', name: 'service'}})}),
    query: WorkspaceQuery,
  },
  responses: {
    200: jsonResponse(CredentialSchema, 'Rotated: the new version (the previous one is kept, marked rotated).'),
    201: jsonResponse(CredentialSchema, 'Set: the first version.'),
    404: jsonResponse(ErrorSchema, 'No such tenant.'),
    ...ERROR_RESPONSES,
  },
  security: BEARER_SECURITY,
  summary: 'Set or rotate a credential (scope credentials:write); the value is never echoed',
  tags: ['credentials'],
})

export function credentialRoutes(app: ServeApp, deps: ServeDependencies): void {
  app.openapi(list, async (c) => {
    const principal = requireScope(c.get('principal'), 'credentials:read')
    const workspace = await requestWorkspace(c, deps, principal)
    const {tenantId} = c.req.valid('param')
    requireTenantInReach(principal, workspace, tenantId)
    const db = requestDb(c, deps)
    // The tenant must exist (404 otherwise), even with no credential yet.
    await getTenant(db, workspace, tenantId)
    const page = await listCredentials(db, workspace, {limit: 1000, tenantId})
    return c.json({credentials: page.credentials}, 200)
  })

  app.openapi(put, async (c) => {
    const principal = requireScope(c.get('principal'), 'credentials:write')
    const workspace = await requestWorkspace(c, deps, principal)
    const {service, tenantId} = c.req.valid('param')
    requireTenantInReach(principal, workspace, tenantId)
    const body = c.req.valid('json')
    if (Buffer.byteLength(body.value) > MAX_SECRET_BYTES) throw new InvalidInputError([{field: 'value', message: `must be at most ${MAX_SECRET_BYTES / 1024} KiB`}])
    const now = new Date()
    const input = {expiresAt: expiryOf(body, now), value: body.value}
    const ref = {label: body.label ?? DEFAULT_LABEL, service, tenantId}
    const db = requestDb(c, deps)
    const keyring = deps.keyring({sealing: true})
    const existing = await listCredentials(db, workspace, {limit: 1000, service, tenantId})
    if (existing.credentials.some((credential) => credential.label === ref.label)) {
      const {current} = await rotateCredential(db, keyring, workspace, apiAudit(principal), ref, input, now)
      return c.json(current, 200)
    }

    return c.json(await setCredential(db, keyring, workspace, apiAudit(principal), ref, input, now), 201)
  })
}
