import {randomBytes, randomUUID} from 'node:crypto'

import {sql} from 'kysely'
import {beforeAll, describe, expect, it} from 'vitest'

import {derivedKeyId, Keyring} from '../../src/crypto/keyring.js'
import type {Db} from '../../src/db/schema.js'
import {createServeRole} from '../../src/services/access/serve-role.js'
import {API_SCOPES, type ApiScope, createApiKey, revokeApiKey} from '../../src/services/api-keys/api-keys.js'
import {setCredential} from '../../src/services/credentials/credentials.js'
import {createTenant} from '../../src/services/tenants/tenants.js'
import {createUser, deactivateUser} from '../../src/services/users/users.js'
import {createWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {withDatabase} from '../helpers/inspect-database.js'
import {type ServeProcess, startServe} from '../helpers/serve-process.js'

/**
 * Who may do what through `serve` (issue 17): every route against every kind of caller, on a
 * real server over HTTP. The callers, seeded through the services before `serve` starts:
 * - superadmin: a superadmin user's key with every scope;
 * - legacy: a key made without a user (it acts as a superadmin), limited to a read-only
 *   integration's scopes, so that "the key lacks the scope" is answered too;
 * - northAdmin: an admin assigned workspace north; southAdmin: an admin assigned south only;
 * - client: a client assigned tenant n1 of north (north also has n2; south has s1);
 * - revoked, expired, deactivated: keys that may no longer be used (401 on every route).
 * Effective scopes are the key's within its role's (src/services/access/roles.ts): a refusal
 * by either is 403; a workspace, tenant, user or key outside the caller's reach answers 404
 * with the very body the same caller gets for one that does not exist (the same request with
 * it named "ghost"). After the matrix: the denials in the metrics and the audit trail, and no
 * key, credential value or webhook URL path in any answer, the access log or the audit trail.
 * One serve per backend; everything is asked in beforeAll, and each test reads its answers.
 */

const ENCRYPTION_KEY = randomBytes(32).toString('base64')
const AUDIT = {actor: 'e2e', source: 'test'}
/** Roles are the server's, not the database's: one name per run. */
const SERVE_ROLE = `sx_serve_roles_${process.pid}_${randomBytes(3).toString('hex')}`

const LIVE = ['superadmin', 'legacy', 'northAdmin', 'southAdmin', 'client'] as const
const DEAD = ['revoked', 'expired', 'deactivated'] as const
type Live = (typeof LIVE)[number]
type Dead = (typeof DEAD)[number]
type Principal = Dead | Live

const LEGACY_SCOPES: ApiScope[] = ['alerts:read', 'events:read', 'tenants:read']

/** Each caller's key name, role, key scopes, and the workspaces it reaches (for which 404 it gets). */
const PRINCIPALS: Record<Principal, {key: string; reaches: (workspace: string) => boolean; role: 'admin' | 'client' | 'superadmin'; scopes: readonly ApiScope[]}> = {
  client: {key: 'client-n1', reaches: (workspace) => workspace === 'north', role: 'client', scopes: API_SCOPES},
  deactivated: {key: 'leaver-key', reaches: () => false, role: 'admin', scopes: API_SCOPES},
  expired: {key: 'north-expired', reaches: () => false, role: 'admin', scopes: API_SCOPES},
  legacy: {key: 'legacy', reaches: () => true, role: 'superadmin', scopes: LEGACY_SCOPES},
  northAdmin: {key: 'north-admin', reaches: (workspace) => workspace === 'north', role: 'admin', scopes: API_SCOPES},
  revoked: {key: 'north-revoked', reaches: () => false, role: 'admin', scopes: API_SCOPES},
  southAdmin: {key: 'south-admin', reaches: (workspace) => workspace === 'south', role: 'admin', scopes: API_SCOPES},
  superadmin: {key: 'root-key', reaches: () => true, role: 'superadmin', scopes: API_SCOPES},
}

/** What an unusable key is told (src/http/auth.ts). */
const UNUSABLE: Record<Dead, string> = {
  deactivated: 'The API key\'s user has been deactivated.',
  expired: 'The API key has expired.',
  revoked: 'The API key has been revoked.',
}

/** Distinctive values that must never come back out: credential values and the webhook URL's secret path. */
const CANARY = {
  credential: (who: string) => `shpat_canary${who}${randomUUID().replaceAll('-', '')}`,
  hookPath: `hookpath${randomUUID().replaceAll('-', '')}`,
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the rows read whatever JSON came back
type Json = any
/** An expected answer: a status, or a 2xx status with the ids the row's `ids` reads from the body. */
type Expected = [number, string[]] | number

interface Row {
  /** The row's name, where its path differs by caller. */
  readonly name?: string
  readonly method: 'DELETE' | 'GET' | 'PATCH' | 'POST' | 'PUT'
  /** The path, or each caller's (a write that succeeds is made on something of the caller's own). */
  readonly path: ((who: Live) => string) | string
  readonly body?: ((who: Live) => unknown) | unknown
  /** The scope the route requires: a 403 names it (details.required) when the key lacks it, else the role (details.role). */
  readonly scope: ApiScope
  /** The ids an answer of 2xx is checked by (from its JSON, or its text where it is not JSON). */
  readonly ids?: (json: Json, text: string) => string[]
  /**
   * What a 404 hides from the caller, when not the workspace (if outside its reach) or the
   * tenant of the path: the answer must be the one the caller gets for something that does not exist.
   */
  readonly hidden?: string
  /** What each live caller gets; revoked, expired and deactivated keys get 401 on every row. */
  readonly expect: Record<Live, Expected>
}

const sorted = (ids: string[]): string[] => [...ids].sort()
const tenantIds = (json: Json): string[] => sorted(json.tenants.map((tenant: {tenantId: string}) => tenant.tenantId))
const oneTenant = (json: Json): string[] => [json.tenantId]
const alertTenants = (json: Json): string[] => sorted(json.alerts.map((alert: {tenantId: string}) => alert.tenantId))
const credentials = (json: Json): string[] => sorted(json.credentials.map((credential: {service: string; tenantId: string}) => `${credential.tenantId}/${credential.service}`))
/** The tenants whose events are listed, other aggregates as type:id, and "(fleet-wide)" when events of no workspace are listed too. */
const eventAggregates = (json: Json): string[] =>
  sorted([...new Set<string>(json.events.map((event: {aggregateId: string; aggregateType: string; workspace: null | string}) => (event.workspace === null ? '(fleet-wide)' : event.aggregateType === 'tenant' ? event.aggregateId : `${event.aggregateType}:${event.aggregateId}`)))])
const NORTH_EVENTS = ['n1', 'n2', 'user:ann@north.example', 'user:cleo@n1.example', 'user:lee@north.example', 'workspace:north']
const mine = (who: Live): string => `made-by-${who.toLowerCase()}`
const allowedToWrite = (who: Live): boolean => who === 'superadmin' || who === 'northAdmin'

/** The matrix. Reads first, then writes (each on the caller's own tenant where it succeeds). */
const ROWS: Row[] = [
  {
    expect: {client: [200, ['n1']], legacy: [200, ['n1', 'n2']], northAdmin: [200, ['n1', 'n2']], southAdmin: 404, superadmin: [200, ['n1', 'n2']]},
    ids: tenantIds,
    method: 'GET',
    path: '/api/tenants?workspace=north',
    scope: 'tenants:read',
  },
  {
    expect: {client: 404, legacy: [200, ['s1']], northAdmin: 404, southAdmin: [200, ['s1']], superadmin: [200, ['s1']]},
    ids: tenantIds,
    method: 'GET',
    path: '/api/tenants?workspace=south',
    scope: 'tenants:read',
  },
  {
    expect: {client: [200, ['n1']], legacy: [200, ['n1']], northAdmin: [200, ['n1']], southAdmin: 404, superadmin: [200, ['n1']]},
    ids: oneTenant,
    method: 'GET',
    path: '/api/tenants/n1?workspace=north',
    scope: 'tenants:read',
  },
  {
    expect: {client: 404, legacy: [200, ['n2']], northAdmin: [200, ['n2']], southAdmin: 404, superadmin: [200, ['n2']]},
    ids: oneTenant,
    method: 'GET',
    path: '/api/tenants/n2?workspace=north',
    scope: 'tenants:read',
  },
  {
    expect: {client: 404, legacy: [200, ['s1']], northAdmin: 404, southAdmin: [200, ['s1']], superadmin: [200, ['s1']]},
    ids: oneTenant,
    method: 'GET',
    path: '/api/tenants/s1?workspace=south',
    scope: 'tenants:read',
  },
  {
    expect: {client: [200, ['n1']], legacy: [200, ['n1']], northAdmin: [200, ['n1']], southAdmin: 404, superadmin: [200, ['n1']]},
    ids: (json) => [...new Set<string>(json.events.map((event: {aggregateId: string}) => event.aggregateId))],
    method: 'GET',
    path: '/api/tenants/n1/events?workspace=north',
    scope: 'events:read',
  },
  {
    expect: {client: 404, legacy: [200, ['n2']], northAdmin: [200, ['n2']], southAdmin: 404, superadmin: [200, ['n2']]},
    ids: (json) => [...new Set<string>(json.events.map((event: {aggregateId: string}) => event.aggregateId))],
    method: 'GET',
    path: '/api/tenants/n2/events?workspace=north',
    scope: 'events:read',
  },
  {
    expect: {client: [200, ['n1/shopify']], legacy: 403, northAdmin: [200, ['n1/shopify']], southAdmin: 404, superadmin: [200, ['n1/shopify']]},
    ids: credentials,
    method: 'GET',
    path: '/api/tenants/n1/credentials?workspace=north',
    scope: 'credentials:read',
  },
  {
    expect: {client: 404, legacy: 403, northAdmin: [200, ['n2/shopify']], southAdmin: 404, superadmin: [200, ['n2/shopify']]},
    ids: credentials,
    method: 'GET',
    path: '/api/tenants/n2/credentials?workspace=north',
    scope: 'credentials:read',
  },
  {
    expect: {client: [200, ['n1']], legacy: [200, ['n1', 'n2', 's1']], northAdmin: [200, ['n1', 'n2']], southAdmin: [200, ['s1']], superadmin: [200, ['n1', 'n2', 's1']]},
    ids: alertTenants,
    method: 'GET',
    path: '/api/alerts',
    scope: 'alerts:read',
  },
  {
    expect: {client: 404, legacy: [200, ['s1']], northAdmin: 404, southAdmin: [200, ['s1']], superadmin: [200, ['s1']]},
    ids: alertTenants,
    method: 'GET',
    path: '/api/alerts?workspace=south',
    scope: 'alerts:read',
  },
  {
    // North's own: its creation, its tenants' events, and users being assigned north or its tenants.
    expect: {
      client: [200, ['n1']],
      legacy: [200, ['(fleet-wide)', ...NORTH_EVENTS]],
      northAdmin: [200, NORTH_EVENTS],
      southAdmin: 404,
      superadmin: [200, ['(fleet-wide)', ...NORTH_EVENTS]],
    },
    ids: eventAggregates,
    method: 'GET',
    path: '/api/events?workspace=north&limit=1000',
    scope: 'events:read',
  },
  {
    expect: {client: 403, legacy: 403, northAdmin: 403, southAdmin: 403, superadmin: [200, ['synthex_tenants']]},
    ids: (_json, text) => text.split('\n').filter((line) => line === '# TYPE synthex_tenants gauge').map(() => 'synthex_tenants'),
    method: 'GET',
    path: '/api/metrics',
    scope: 'metrics:read',
  },
  {
    expect: {client: 403, legacy: 403, northAdmin: 403, southAdmin: 403, superadmin: [200, []]},
    ids: (json) => json.subscriptions.map((subscription: {name: string}) => subscription.name),
    method: 'GET',
    path: '/api/webhook-subscriptions',
    scope: 'webhooks:read',
  },
  {
    expect: {client: 403, legacy: 403, northAdmin: [200, ['cleo@n1.example']], southAdmin: [200, []], superadmin: [200, ['ann@north.example', 'cleo@n1.example', 'lee@north.example', 'root@synthex.example', 'sam@south.example']]},
    ids: (json) => json.users.map((user: {email: string}) => user.email),
    method: 'GET',
    path: '/api/users',
    scope: 'users:read',
  },
  {
    expect: {
      client: 403,
      legacy: 403,
      northAdmin: [200, ['client-n1']],
      southAdmin: [200, []],
      superadmin: [200, ['client-n1', 'leaver-key', 'legacy', 'north-admin', 'north-expired', 'north-revoked', 'root-key', 'south-admin']],
    },
    ids: (json) => json.apiKeys.map((key: {name: string}) => key.name),
    method: 'GET',
    path: '/api/api-keys',
    scope: 'users:read',
  },
  // Writes.
  {
    body: (who: Live) => ({name: `Made by ${who}`, shopifyShop: `${mine(who)}.myshopify.com`, tenantId: mine(who), type: 'shopify'}),
    expect: {client: 403, legacy: 403, northAdmin: [201, [mine('northAdmin')]], southAdmin: 404, superadmin: [201, [mine('superadmin')]]},
    ids: oneTenant,
    method: 'POST',
    path: '/api/tenants?workspace=north',
    scope: 'tenants:write',
  },
  {
    body: {region: 'EMEA'},
    expect: {client: 403, legacy: 403, northAdmin: [200, ['n1']], southAdmin: 404, superadmin: [200, ['n1']]},
    ids: (json) => [json.tenant.tenantId],
    method: 'PATCH',
    path: '/api/tenants/n1?workspace=north',
    scope: 'tenants:write',
  },
  {
    // The role is checked before the reach: a client changing another's tenant is refused, not told it does not exist.
    body: {region: 'EMEA'},
    expect: {client: 403, legacy: 403, northAdmin: [200, ['n2']], southAdmin: 404, superadmin: [200, ['n2']]},
    ids: (json) => [json.tenant.tenantId],
    method: 'PATCH',
    path: '/api/tenants/n2?workspace=north',
    scope: 'tenants:write',
  },
  {
    expect: {client: 403, legacy: 403, northAdmin: [200, [mine('northAdmin')]], southAdmin: 404, superadmin: [200, [mine('superadmin')]]},
    ids: oneTenant,
    method: 'DELETE',
    name: '/api/tenants/{its own; n1 for the others}?workspace=north',
    path: (who: Live) => `/api/tenants/${allowedToWrite(who) ? mine(who) : 'n1'}?workspace=north`,
    scope: 'tenants:write',
  },
  {
    // n1 has a credential already: each PUT rotates it.
    body: (who: Live) => ({expiresIn: '90d', value: CANARY.credential(who)}),
    expect: {client: [200, ['n1/shopify']], legacy: 403, northAdmin: [200, ['n1/shopify']], southAdmin: 404, superadmin: [200, ['n1/shopify']]},
    ids: (json) => [`${json.tenantId}/${json.service}`],
    method: 'PUT',
    path: '/api/tenants/n1/credentials/shopify?workspace=north',
    scope: 'credentials:write',
  },
  {
    body: (who: Live) => ({expiresIn: '90d', label: who.toLowerCase(), value: CANARY.credential(who)}),
    expect: {client: 404, legacy: 403, northAdmin: [201, ['n2/shopify']], southAdmin: 404, superadmin: [201, ['n2/shopify']]},
    ids: (json) => [`${json.tenantId}/${json.service}`],
    method: 'PUT',
    path: '/api/tenants/n2/credentials/shopify?workspace=north',
    scope: 'credentials:write',
  },
  {
    body: (who: Live) => ({data: {name: `Zap by ${who}`, shopify_shop: `zap-${mine(who)}.myshopify.com`, tenant_id: `zap-${mine(who)}`, type: 'shopify', workspace_id: 'north'}, trigger: 'new_tenant'}),
    expect: {client: 403, legacy: 403, northAdmin: [201, [`zap-${mine('northAdmin')}`]], southAdmin: 404, superadmin: [201, [`zap-${mine('superadmin')}`]]},
    ids: oneTenant,
    method: 'POST',
    path: '/api/webhooks/zapier',
    scope: 'tenants:write',
  },
  {
    body: (who: Live) => ({data: {gmc_merchant_id: '4242', name: `Made by ${who}`, tenant_id: `make-${mine(who)}`, type: 'google_merchant', workspace_id: 'north'}, trigger: 'new_tenant'}),
    expect: {client: 403, legacy: 403, northAdmin: [201, [`make-${mine('northAdmin')}`]], southAdmin: 404, superadmin: [201, [`make-${mine('superadmin')}`]]},
    ids: oneTenant,
    method: 'POST',
    path: '/api/webhooks/make',
    scope: 'tenants:write',
  },
  {
    // An admin creates clients of its workspaces' tenants...
    body: (who: Live) => ({email: `client-of-${who.toLowerCase()}@n2.example`, role: 'client', tenants: [{tenantId: 'n2', workspace: 'north'}]}),
    expect: {client: 403, legacy: 403, northAdmin: [201, ['client-of-northadmin@n2.example']], southAdmin: 404, superadmin: [201, ['client-of-superadmin@n2.example']]},
    ids: (json) => [json.email],
    method: 'POST',
    path: '/api/users',
    scope: 'users:write',
  },
  {
    body: (who: Live) => ({email: `client-of-${who.toLowerCase()}@s1.example`, role: 'client', tenants: [{tenantId: 's1', workspace: 'south'}]}),
    expect: {client: 403, legacy: 403, northAdmin: 404, southAdmin: [201, ['client-of-southadmin@s1.example']], superadmin: [201, ['client-of-superadmin@s1.example']]},
    ids: (json) => [json.email],
    method: 'POST',
    path: '/api/users',
    scope: 'users:write',
  },
  {
    // ...and nothing above client, even in its own workspace.
    body: (who: Live) => ({email: `admin-of-${who.toLowerCase()}@north.example`, role: 'admin', workspaces: ['north']}),
    expect: {client: 403, legacy: 403, northAdmin: 403, southAdmin: 403, superadmin: [201, ['admin-of-superadmin@north.example']]},
    ids: (json) => [json.email],
    method: 'POST',
    path: '/api/users',
    scope: 'users:write',
  },
  {
    // The key is in the answer, once (the canary below finds it nowhere else).
    body: (who: Live) => ({expiresIn: '30d', name: `key-by-${who.toLowerCase()}`, scopes: ['tenants:read'], user: 'cleo@n1.example'}),
    expect: {client: 403, legacy: 403, northAdmin: [201, ['key-by-northadmin', 'cleo@n1.example', 'key shown']], southAdmin: 404, superadmin: [201, ['key-by-superadmin', 'cleo@n1.example', 'key shown']]},
    hidden: 'cleo@n1.example',
    ids: (json) => [json.apiKey.name, json.apiKey.user, /^sxk_\w{36}$/.test(json.key) ? 'key shown' : 'no key'],
    method: 'POST',
    path: '/api/api-keys',
    scope: 'users:write',
  },
  {
    body: (who: Live) => ({name: `root-key-by-${who.toLowerCase()}`, scopes: ['all'], user: 'root@synthex.example'}),
    expect: {client: 403, legacy: 403, northAdmin: 403, southAdmin: 403, superadmin: [201, ['root-key-by-superadmin', 'root@synthex.example', 'key shown']]},
    ids: (json) => [json.apiKey.name, json.apiKey.user, /^sxk_\w{36}$/.test(json.key) ? 'key shown' : 'no key'],
    method: 'POST',
    path: '/api/api-keys',
    scope: 'users:write',
  },
  {
    // Each that may revokes the key it made for the client; the others try the client's own key.
    expect: {client: 403, legacy: 403, northAdmin: [200, ['key-by-northadmin']], southAdmin: 404, superadmin: [200, ['key-by-superadmin']]},
    hidden: 'client-n1',
    ids: (json) => [json.name],
    method: 'DELETE',
    name: '/api/api-keys/{the key it made; client-n1 for the others}',
    path: (who: Live) => `/api/api-keys/${allowedToWrite(who) ? `key-by-${who.toLowerCase()}` : 'client-n1'}`,
    scope: 'users:write',
  },
  {
    body: (who: Live) => ({events: ['tenant.created'], name: `hook-${who.toLowerCase()}`, url: `https://203.0.113.10/hooks/${CANARY.hookPath}`}),
    expect: {client: 403, legacy: 403, northAdmin: 403, southAdmin: 403, superadmin: [201, ['hook-superadmin']]},
    ids: (json) => [json.name],
    method: 'POST',
    path: '/api/webhook-subscriptions',
    scope: 'webhooks:write',
  },
  {
    body: {overlap: '0s'},
    expect: {client: 403, legacy: 403, northAdmin: 403, southAdmin: 403, superadmin: [200, ['hook-superadmin']]},
    ids: (json) => [json.subscription.name],
    method: 'POST',
    path: '/api/webhook-subscriptions/hook-superadmin/rotate-secret',
    scope: 'webhooks:write',
  },
  {
    body: {},
    expect: {client: 403, legacy: 403, northAdmin: 403, southAdmin: 403, superadmin: [200, ['hook-superadmin']]},
    ids: (json) => [json.subscription.name],
    method: 'POST',
    path: '/api/webhook-subscriptions/hook-superadmin/enable',
    scope: 'webhooks:write',
  },
  {
    expect: {client: 403, legacy: 403, northAdmin: 403, southAdmin: 403, superadmin: 204},
    method: 'DELETE',
    path: '/api/webhook-subscriptions/hook-superadmin',
    scope: 'webhooks:write',
  },
]

interface Answer {
  readonly json: Json
  readonly status: number
  readonly text: string
  readonly wwwAuthenticate: null | string
}

/** A row's path and body for a caller; an unusable key is tried with the northAdmin's, whose keys they were or stand for. */
function request(row: Row, who: Principal): {body: unknown; path: string} {
  const as: Live = (LIVE as readonly string[]).includes(who) ? (who as Live) : 'northAdmin'
  return {body: typeof row.body === 'function' ? (row.body as (who: Live) => unknown)(as) : row.body, path: typeof row.path === 'function' ? row.path(as) : row.path}
}

/** The workspace a request addresses: ?workspace=, or the one its body names. */
function workspaceOf(path: string, body: unknown): string {
  const named = body as undefined | {data?: {workspace_id?: string}; tenants?: Array<{workspace: string}>; workspaces?: string[]}
  return new URL(path, 'http://localhost').searchParams.get('workspace') ?? named?.data?.workspace_id ?? named?.tenants?.[0]?.workspace ?? named?.workspaces?.[0] ?? 'default'
}

/** What a 404 hides from this caller: the row's `hidden`, else the workspace when out of reach, else the path's tenant. */
function hiddenFrom(row: Row, who: Live): string {
  if (row.hidden) return row.hidden
  const {body, path} = request(row, who)
  const workspace = workspaceOf(path, body)
  if (!PRINCIPALS[who].reaches(workspace)) return workspace
  return /^\/api\/tenants\/([^/?]+)/.exec(path)?.[1] ?? '(nothing hidden)'
}

/** The caller's request with what is hidden from it named "ghost": something that does not exist. */
function ghostOf(row: Row, who: Live): {body: unknown; path: string} {
  const hidden = hiddenFrom(row, who)
  const {body, path} = request(row, who)
  const url = new URL(path, 'http://localhost')
  const pathname = url.pathname
    .split('/')
    .map((part) => (part === hidden ? 'ghost' : part))
    .join('/')
  for (const [name, value] of url.searchParams) if (value === hidden) url.searchParams.set(name, 'ghost')
  const ghostly = (value: unknown): unknown =>
    value === hidden ? 'ghost' : Array.isArray(value) ? value.map(ghostly) : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, ghostly(inner)])) : value
  return {body: ghostly(body), path: `${pathname}${url.search}`}
}

const rowName = (row: Row): string => `${row.method} ${row.name ?? (typeof row.path === 'string' ? row.path : row.path('northAdmin'))}`

describeEachCliBackend('serve: roles, reach and scopes on every route', (target) => {
  let serve: ServeProcess
  const keys = {} as Record<Principal, string>
  /** Every answer, by row and caller. */
  const answers = new Map<Row, Map<Principal, Answer>>()
  /** For each 404, what the same caller is answered for something that does not exist (named "ghost" instead). */
  const twins = new Map<Row, Map<Principal, string>>()
  const me = new Map<Principal, Answer>()
  const health = new Map<Principal, Answer>()
  let metricsAfter = ''
  const everyAnswer: string[] = []
  const credentialValues: string[] = []
  /** Keys made over the API: each may be in its own answer, and nowhere else. */
  const madeKeys: string[] = []
  let output = {stderr: '', stdout: ''}
  let denials: Array<Record<string, unknown>> = []
  let eventsText = ''

  const call = async (method: string, path: string, key: string | undefined, body?: unknown): Promise<Answer> => {
    const headers: Record<string, string> = key ? {authorization: `Bearer ${key}`} : {}
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(`${serve.url}${path}`, {body: body === undefined ? undefined : JSON.stringify(body), headers, method})
    const text = await response.text()
    everyAnswer.push(text)
    let json: Json
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }

    return {json, status: response.status, text, wwwAuthenticate: response.headers.get('www-authenticate')}
  }

  const seed = async (db: Db): Promise<void> => {
    const key = Buffer.from(ENCRYPTION_KEY, 'base64')
    const keyring = new Keyring({id: derivedKeyId(key), key})
    const north = await createWorkspace(db, AUDIT, {slug: 'north'})
    const south = await createWorkspace(db, AUDIT, {slug: 'south'})
    const tenant = (workspace: Workspace, tenantId: string) => createTenant(db, workspace, AUDIT, {name: `Shop ${tenantId}`, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify'})
    await tenant(north, 'n1')
    await tenant(north, 'n2')
    await tenant(south, 's1')
    for (const [tenantId, workspace] of [['n1', north], ['n2', north], ['s1', south]] as const) {
      const value = CANARY.credential(`seed${tenantId}`)
      credentialValues.push(value)
      await setCredential(db, keyring, workspace, AUDIT, {service: 'shopify', tenantId}, {expiresAt: new Date(Date.now() + 90 * 86_400_000), value})
    }

    const now = new Date()
    for (const [tenantId, workspace] of [['n1', north], ['n2', north], ['s1', south]] as const) {
      await sql`insert into alerts (fingerprint, rule, workspace_id, tenant_id, severity, summary, started_at, updated_at)
        values (${`tenant_inactive:${workspace.id}:${tenantId}`}, 'tenant_inactive', ${workspace.id}, ${tenantId}, 'warning', ${`Tenant ${tenantId} has been inactive`}, ${now}, ${now})`.execute(db)
    }

    await createUser(db, AUDIT, {email: 'root@synthex.example', role: 'superadmin'})
    await createUser(db, AUDIT, {email: 'ann@north.example', role: 'admin', workspaces: ['north']})
    await createUser(db, AUDIT, {email: 'lee@north.example', role: 'admin', workspaces: ['north']})
    await createUser(db, AUDIT, {email: 'sam@south.example', role: 'admin', workspaces: ['south']})
    await createUser(db, AUDIT, {email: 'cleo@n1.example', role: 'client', tenants: [{tenantId: 'n1', workspace: 'north'}]})
    const userOf: Record<Principal, string | undefined> = {
      client: 'cleo@n1.example',
      deactivated: 'lee@north.example',
      expired: 'ann@north.example',
      legacy: undefined,
      northAdmin: 'ann@north.example',
      revoked: 'ann@north.example',
      southAdmin: 'sam@south.example',
      superadmin: 'root@synthex.example',
    }
    for (const who of [...LIVE, ...DEAD]) {
      const {key: name, scopes} = PRINCIPALS[who]
      keys[who] = (await createApiKey(db, AUDIT, {expiresAt: who === 'expired' ? new Date(Date.now() + 3_600_000) : null, name, scopes, user: userOf[who]})).key
    }

    await revokeApiKey(db, AUDIT, PRINCIPALS.revoked.key)
    await sql`update api_keys set expires_at = now() - interval '1 minute' where name = ${PRINCIPALS.expired.key}`.execute(db)
    // Deactivated after its key was made: the key stops on its next request.
    await deactivateUser(db, AUDIT, 'lee@north.example')
  }

  beforeAll(async () => {
    await withDatabase(target(), seed)
    // On the server, serve runs as a login of `db create-serve-role`: row-level security binds
    // it, so every answer below also passes the second line (src/db/reach-scoped-db.ts).
    let env = target().env
    if (target().backend === 'server') {
      await withDatabase(target(), async (db) => {
        await createServeRole(db, AUDIT, {name: SERVE_ROLE, password: {kind: 'none'}})
      })
      const url = new URL(env.DATABASE_URL as string)
      url.username = SERVE_ROLE
      url.password = ''
      env = {...env, DATABASE_URL: url.toString()}
    }

    serve = await startServe({...env, SYNTHEX_API_RATE_LIMIT: '100000', SYNTHEX_ENCRYPTION_KEY: ENCRYPTION_KEY})
    expect(serve.output().stderr.includes('row-level security: on')).toBe(target().backend === 'server')
    try {
      for (const who of [...LIVE, ...DEAD]) {
        me.set(who, await call('GET', '/api/me', keys[who]))
        health.set(who, await call('GET', '/api/health', keys[who]))
      }

      for (const row of ROWS) {
        // The callers of a row at once (no answer depends on another's), the rows in turn.
        const asked = [...LIVE, ...DEAD].map(async (who) => {
          const {body, path} = request(row, who)
          if (body && typeof body === 'object' && 'value' in body) credentialValues.push(String(body.value))
          return [who, await call(row.method, path, keys[who], body)] as const
        })
        answers.set(row, new Map(await Promise.all(asked)))
      }

      for (const answer of answers.values()) for (const {json} of answer.values()) if (typeof json?.key === 'string') madeKeys.push(json.key)

      for (const [row, byCaller] of answers) {
        const asked = LIVE.filter((who) => byCaller.get(who)?.status === 404).map(async (who) => {
          const {body, path} = ghostOf(row, who)
          return [who, (await call(row.method, path, keys[who], body)).text.replaceAll('ghost', hiddenFrom(row, who))] as const
        })
        twins.set(row, new Map(await Promise.all(asked)))
      }

      metricsAfter = (await call('GET', '/api/metrics', keys.superadmin)).text
    } finally {
      const stopped = await serve.stop()
      output = {stderr: stopped.stderr, stdout: stopped.stdout}
      expect(stopped.code, stopped.stderr).toBe(0)
      if (target().backend === 'server') {
        await withDatabase(target(), async (db) => {
          await sql`drop owned by ${sql.id(SERVE_ROLE)}`.execute(db)
          await sql`drop role ${sql.id(SERVE_ROLE)}`.execute(db)
        })
      }
    }

    await withDatabase(target(), async (db) => {
      const {rows} = await sql<{row: string}>`select row_to_json(events)::text as row from events order by id`.execute(db)
      eventsText = rows.map((row) => row.row).join('\n')
      denials = (await db.selectFrom('events').select('data').where('type', '=', 'access.denied').orderBy('id').execute()).map((row) => row.data)
    })
  })

  /** What a caller's answer was, in the terms of the matrix: the status when the body is what that status must carry, else the whole answer. */
  const verdict = (row: Row, who: Principal, answer: Answer): unknown => {
    const {json, status} = answer
    if (status >= 200 && status < 300) return row.ids ? [status, row.ids(json, answer.text)] : status
    if (status === 401) {
      const ok = json?.error?.code === 'UNAUTHENTICATED' && /^Bearer\b/.test(answer.wwwAuthenticate ?? '') && json.error.message === UNUSABLE[who as Dead]
      return ok ? 401 : {status, text: answer.text, wwwAuthenticate: answer.wwwAuthenticate}
    }

    if (status === 403) {
      const lacksScope = !PRINCIPALS[who].scopes.includes(row.scope)
      const details = json?.error?.details ?? {}
      const ok = json?.error?.code === 'FORBIDDEN' && (lacksScope ? details.required === row.scope : details.role === PRINCIPALS[who].role)
      return ok ? 403 : {status, text: answer.text}
    }

    if (status === 404) {
      // Outside the caller's reach answers what something that does not exist does.
      const expected = twins.get(row)?.get(who)
      return json?.error?.code === 'NOT_FOUND' && answer.text === expected ? 404 : {expected, status, text: answer.text}
    }

    return {status, text: answer.text}
  }

  describe.each(ROWS.map((row) => [rowName(row), row] as const))('%s', (_name, row) => {
    it('answers each caller as its role, scopes and reach say', () => {
      const byCaller = answers.get(row)
      expect(byCaller).toBeDefined()
      const actual = Object.fromEntries([...LIVE, ...DEAD].map((who) => [who, verdict(row, who, byCaller?.get(who) as Answer)]))
      expect(actual).toEqual({...row.expect, deactivated: 401, expired: 401, revoked: 401})
    })
  })

  it('GET /api/me tells each key its user, role, effective scopes and reach; an unusable key gets 401', () => {
    const view = (who: Principal) => {
      const answer = me.get(who) as Answer
      return answer.status === 200 ? answer.json : verdict({expect: {} as Row['expect'], method: 'GET', path: '/api/me', scope: 'tenants:read'}, who, answer)
    }

    const key = (who: Principal, workspace: null | string = null) => ({name: PRINCIPALS[who].key, prefix: keys[who].slice(0, 10), scopes: [...PRINCIPALS[who].scopes].sort(), workspace})
    const admin = ['alerts:read', 'credentials:read', 'credentials:write', 'events:read', 'health:read', 'tenants:read', 'tenants:write', 'users:read', 'users:write']
    expect(Object.fromEntries([...LIVE, ...DEAD].map((who) => [who, view(who)]))).toEqual({
      client: {key: key('client'), reach: {all: false, tenants: [{tenantId: 'n1', workspace: 'north'}]}, role: 'client', scopes: ['alerts:read', 'credentials:read', 'credentials:write', 'events:read', 'tenants:read'], user: {email: 'cleo@n1.example'}, workspace: null},
      deactivated: 401,
      expired: 401,
      legacy: {key: key('legacy'), reach: {all: true}, role: 'superadmin', scopes: LEGACY_SCOPES, user: null, workspace: null},
      northAdmin: {key: key('northAdmin'), reach: {all: false, workspaces: ['north']}, role: 'admin', scopes: admin, user: {email: 'ann@north.example'}, workspace: null},
      revoked: 401,
      southAdmin: {key: key('southAdmin'), reach: {all: false, workspaces: ['south']}, role: 'admin', scopes: admin, user: {email: 'sam@south.example'}, workspace: null},
      superadmin: {key: key('superadmin'), reach: {all: true}, role: 'superadmin', scopes: [...API_SCOPES].sort(), user: {email: 'root@synthex.example'}, workspace: null},
    })
  })

  it('GET /api/health answers every usable key, with reasons only where the key may read health', () => {
    const view = (who: Principal) => {
      const answer = health.get(who) as Answer
      if (answer.status !== 200 && answer.status !== 503) return verdict({expect: {} as Row['expect'], method: 'GET', path: '/api/health', scope: 'health:read'}, who, answer)
      return answer.json.checks.some((check: {reason?: string}) => typeof check.reason === 'string') ? 'with reasons' : 'without reasons'
    }

    expect(Object.fromEntries([...LIVE, ...DEAD].map((who) => [who, view(who)]))).toEqual({
      client: 'without reasons',
      deactivated: 401,
      expired: 401,
      legacy: 'without reasons',
      northAdmin: 'with reasons',
      revoked: 401,
      southAdmin: 'with reasons',
      superadmin: 'with reasons',
    })
  })

  it('counts denied requests in the metrics, by reason and role', () => {
    // Every reason and role pair is exported, from 0; those above 0 are what was refused.
    expect(metricsAfter.split('\n').filter((line) => line.startsWith('synthex_api_denied_requests_total{'))).toHaveLength(18)
    const counted = metricsAfter
      .split('\n')
      .filter((line) => line.startsWith('synthex_api_denied_requests_total{') && !line.endsWith(' 0'))
      .map((line) => /reason="(\w+)".*role="(\w+)"|role="(\w+)".*reason="(\w+)"/.exec(line))
      .map((match) => (match ? `${match[1] ?? match[4]}/${match[2] ?? match[3]}` : 'unparsed'))
    expect(counted.sort()).toEqual(['deactivated/admin', 'expired/admin', 'reach/admin', 'reach/client', 'revoked/admin', 'role/admin', 'role/client', 'scope/superadmin'])
  })

  it('writes each denied attempt to the audit trail with its reason and key name, never a key', () => {
    const seen = new Set(denials.map((denial) => `${String(denial.reason)}/${String(denial.key)}`))
    expect([...seen].sort()).toEqual(
      [
        'deactivated/leaver-key',
        'expired/north-expired',
        'reach/client-n1',
        'reach/north-admin',
        'reach/south-admin',
        'revoked/north-revoked',
        'role/client-n1',
        'role/north-admin',
        'role/south-admin',
        'scope/legacy',
      ].sort(),
    )
    expect(denials.every((denial) => typeof denial.route === 'string' && !String(denial.route).includes('?') && typeof denial.status === 'number')).toBe(true)
  })

  it('lets no key, credential value or webhook URL path out: not in an answer, the log, or the audit trail', () => {
    expect([credentialValues.length, madeKeys.length]).toEqual([3 + 2 * 8, 3])
    const secrets = [...Object.values(keys), ...madeKeys, ...credentialValues, CANARY.hookPath]
    const places = {events: eventsText, stderr: output.stderr, stdout: output.stdout}
    const leaks = [
      ...Object.entries(places).flatMap(([place, text]) => secrets.filter((secret) => text.includes(secret)).map((secret) => `${place}: ${secret.slice(0, 12)}...`)),
      ...secrets.filter((secret) => everyAnswer.filter((text) => text.includes(secret)).length > (madeKeys.includes(secret) ? 1 : 0)).map((secret) => `answers: ${secret.slice(0, 12)}...`),
    ]
    expect(leaks).toEqual([])
    expect(eventsText).toContain('access.denied')
    expect(output.stdout.split('\n').filter((line) => line.startsWith('{')).length).toBeGreaterThan(200)
  })
})
