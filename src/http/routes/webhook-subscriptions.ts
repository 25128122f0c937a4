import {createRoute, z} from '@hono/zod-openapi'

import {currentEnvironment} from '../../config/environment.js'
import {networkSettings} from '../../config/settings.js'
import {parseDuration} from '../../domain/durations.js'
import {InvalidInputError} from '../../errors/input-errors.js'
import type {ApiPrincipal} from '../../services/api-keys/api-keys.js'
import {WEBHOOK_EVENT_TYPES} from '../../services/webhooks/event-catalogue.js'
import {addSubscription, enableSubscription, listSubscriptions, MAX_OVERLAP_MS, removeSubscription, rotateSubscriptionSecret, type Subscription, type SubscriptionReach} from '../../services/webhooks/subscriptions.js'
import {findWorkspace, type Workspace} from '../../services/workspaces/workspaces.js'
import {apiAudit, type ServeApp, type ServeDependencies} from '../app.js'
import {requireScope} from '../auth.js'
import {HttpError} from '../http-errors.js'
import {BEARER_SECURITY, ERROR_RESPONSES, ErrorSchema, jsonResponse} from '../tenant-schemas.js'

/**
 * Outbound webhook subscriptions through the API (`synthex webhooks add|list|remove|
 * rotate-secret|enable`). Under /api/webhook-subscriptions rather than /api/webhooks, where
 * the inbound Zapier, Make and Shopify routes live (webhooks.ts): a subscription may well be
 * named `zapier`, and the middleware's rules by path (Shopify's open, unparsed route in
 * app.ts) stay about inbound webhooks alone. A key limited to a workspace reaches only the
 * subscriptions limited to that workspace.
 */

const SubscriptionSchema = z
  .object({
    allowHttp: z.boolean(),
    allowPrivateNetwork: z.boolean(),
    createdAt: z.string().datetime(),
    disabledAt: z.string().datetime().nullable().openapi({description: 'Set when the receiver answered 410 Gone; POST .../enable turns it back on.'}),
    disabledReason: z.string().nullable(),
    events: z.array(z.string()),
    id: z.string(),
    name: z.string(),
    urlHost: z.string().openapi({description: 'The URL\'s host: the URL itself may be a secret and is never returned.'}),
    workspaceId: z.string().nullable(),
  })
  .openapi('WebhookSubscription')

const ListedSchema = SubscriptionSchema.extend({
  deliveries: z.object({
    failed: z.number().int(),
    last: z.object({at: z.string().datetime().nullable(), state: z.string(), status: z.number().int().nullable()}).nullable(),
    pending: z.number().int(),
  }),
  previousSecretUntil: z.string().datetime().nullable(),
  workspace: z.string().nullable(),
}).openapi('WebhookSubscriptionListed')

const SECRET_DESCRIPTION = 'The signing secret (whsec_...), shown this once. null in a replay (Idempotent-Replayed: true): synthex does not keep it to show again; rotate the secret for a new one.'

const NameParams = z.object({name: z.string().max(63).openapi({param: {in: 'path', name: 'name'}})})

const list = createRoute({
  method: 'get',
  path: '/api/webhook-subscriptions',
  responses: {200: jsonResponse(z.object({subscriptions: z.array(ListedSchema)}), 'Every subscription within the key\'s reach, by name, with its deliveries counted; never a URL or a secret.'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'Webhook subscriptions (scope webhooks:read)',
  tags: ['webhook subscriptions'],
})

const add = createRoute({
  method: 'post',
  path: '/api/webhook-subscriptions',
  request: {
    body: {
      content: {
        'application/json': {
          schema: z
            .object({
              allowHttp: z.boolean().optional().openapi({description: 'Allow a plain http:// URL (only where serve runs with SYNTHEX_ALLOW_HTTP=1). Default: https only.'}),
              allowPrivateNetwork: z.boolean().optional().openapi({description: 'Allow a loopback, private, link-local or metadata address (only where serve runs with SYNTHEX_ALLOW_PRIVATE_NETWORK=1). Default: refused.'}),
              events: z.array(z.string().max(100)).max(100).openapi({description: `Event types, families (tenant.*) or *: ${WEBHOOK_EVENT_TYPES.join(', ')}.`}),
              name: z.string().max(63),
              url: z.string().max(2048).openapi({description: 'The receiver\'s https:// URL. Never returned.'}),
              workspace: z.string().max(63).optional().openapi({description: 'Only this workspace\'s events (a key limited to a workspace: always its own). Default: every workspace.'}),
            })
            .strict()
            .openapi('WebhookSubscriptionInput', {example: {events: ['tenant.created', 'credential.expiring'], name: 'crm', url: 'https://crm.example.com/hooks/synthex'}}),
        },
      },
      required: true,
    },
  },
  responses: {
    201: jsonResponse(SubscriptionSchema.extend({secret: z.string().nullable().openapi({description: SECRET_DESCRIPTION}), workspace: z.string().nullable()}), 'The subscription, and its signing secret once.'),
    404: jsonResponse(ErrorSchema, 'No such workspace, or outside the key\'s reach.'),
    409: jsonResponse(ErrorSchema, 'A subscription of that name exists.'),
    ...ERROR_RESPONSES,
  },
  security: BEARER_SECURITY,
  summary: 'Subscribe a URL to events (scope webhooks:write; honours Idempotency-Key)',
  tags: ['webhook subscriptions'],
})

const remove = createRoute({
  method: 'delete',
  path: '/api/webhook-subscriptions/{name}',
  request: {params: NameParams},
  responses: {204: {description: 'Removed, with its deliveries (pending ones are never sent).'}, 404: jsonResponse(ErrorSchema, 'No such subscription within the key\'s reach.'), ...ERROR_RESPONSES},
  security: BEARER_SECURITY,
  summary: 'Remove a webhook subscription (scope webhooks:write)',
  tags: ['webhook subscriptions'],
})

const rotate = createRoute({
  method: 'post',
  path: '/api/webhook-subscriptions/{name}/rotate-secret',
  request: {
    body: {
      content: {
        'application/json': {
          schema: z
            .object({overlap: z.string().max(32).optional().openapi({description: 'How long the previous secret keeps signing too: 0s to 7d, default 24h.'})})
            .strict()
            .openapi('WebhookSecretRotation'),
        },
      },
      required: true,
    },
    params: NameParams,
  },
  responses: {
    200: jsonResponse(z.object({previousSecretUntil: z.string().datetime().nullable(), secret: z.string().nullable().openapi({description: SECRET_DESCRIPTION}), subscription: SubscriptionSchema}), 'The new secret, once.'),
    404: jsonResponse(ErrorSchema, 'No such subscription within the key\'s reach.'),
    ...ERROR_RESPONSES,
  },
  security: BEARER_SECURITY,
  summary: 'Replace a subscription\'s signing secret (scope webhooks:write; honours Idempotency-Key)',
  tags: ['webhook subscriptions'],
})

const enable = createRoute({
  method: 'post',
  path: '/api/webhook-subscriptions/{name}/enable',
  request: {body: {content: {'application/json': {schema: z.object({}).strict()}}, required: true}, params: NameParams},
  responses: {
    200: jsonResponse(z.object({resumed: z.number().int(), subscription: SubscriptionSchema, wasDisabled: z.boolean()}), 'Enabled (or enabled already); its pending deliveries are due.'),
    404: jsonResponse(ErrorSchema, 'No such subscription within the key\'s reach.'),
    ...ERROR_RESPONSES,
  },
  security: BEARER_SECURITY,
  summary: 'Re-enable a subscription disabled by a 410 Gone (scope webhooks:write)',
  tags: ['webhook subscriptions'],
})

function reachOf(principal: ApiPrincipal): SubscriptionReach {
  return {workspaceId: principal.workspaceId}
}

/** The workspace a new subscription is limited to: the key's own, else the body's, else none. */
async function subscriptionWorkspace(deps: ServeDependencies, principal: ApiPrincipal, slug: string | undefined): Promise<Workspace | undefined> {
  if (principal.workspaceId !== null) {
    if (slug !== undefined && slug !== principal.workspace) throw new HttpError(404, 'NOT_FOUND', `Workspace "${slug}" does not exist.`, {details: {workspace: slug}})
    return findWorkspace(deps.db(), principal.workspace as string)
  }

  return slug === undefined ? undefined : findWorkspace(deps.db(), slug)
}

function overlapOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const ms = parseDuration(text, {max: MAX_OVERLAP_MS, min: 0})
  if (ms === undefined) throw new InvalidInputError([{field: 'overlap', message: 'must be a duration from 0s to 7d, such as 24h'}])
  return ms
}

/** The answer as a replay gives it: everything but the secret (see replayAnswer in app.ts). */
function withoutSecret(answer: {secret: null | string}): Record<string, unknown> {
  return JSON.parse(JSON.stringify({...answer, secret: null})) as Record<string, unknown>
}

export function webhookSubscriptionRoutes(app: ServeApp, deps: ServeDependencies): void {
  app.openapi(list, async (c) => {
    const principal = requireScope(c.get('principal'), 'webhooks:read')
    return c.json({subscriptions: await listSubscriptions(deps.db(), reachOf(principal))} as never, 200)
  })

  app.openapi(add, async (c) => {
    const principal = requireScope(c.get('principal'), 'webhooks:write')
    const body = c.req.valid('json')
    // The opt-outs of the address policy open a way into the server's network (SSRF): over
    // the API only where whoever runs serve opted in for the whole process.
    const operator = networkSettings(currentEnvironment())
    const refused = [
      ...(body.allowHttp && !operator.allowHttp ? [{field: 'allowHttp', message: 'may be set over the API only when serve runs with SYNTHEX_ALLOW_HTTP=1; or use `synthex webhooks add --allow-http`'}] : []),
      ...(body.allowPrivateNetwork && !operator.allowPrivateNetwork
        ? [{field: 'allowPrivateNetwork', message: 'may be set over the API only when serve runs with SYNTHEX_ALLOW_PRIVATE_NETWORK=1; or use `synthex webhooks add --allow-private-network`'}]
        : []),
    ]
    if (refused.length > 0) throw new InvalidInputError(refused)
    const workspace = await subscriptionWorkspace(deps, principal, body.workspace)
    const {secret, subscription} = await addSubscription(deps.db(), deps.keyring({sealing: true}), apiAudit(principal), {...body, workspace})
    const answer: Subscription & {secret: null | string; workspace: null | string} = {...subscription, secret, workspace: workspace?.slug ?? null}
    c.set('replayAnswer', withoutSecret(answer))
    c.header('location', `/api/webhook-subscriptions/${encodeURIComponent(subscription.name)}`)
    return c.json(answer as never, 201)
  })

  app.openapi(remove, async (c) => {
    const principal = requireScope(c.get('principal'), 'webhooks:write')
    await removeSubscription(deps.db(), apiAudit(principal), c.req.valid('param').name, reachOf(principal))
    return c.body(null, 204) as never
  })

  app.openapi(rotate, async (c) => {
    const principal = requireScope(c.get('principal'), 'webhooks:write')
    const overlapMs = overlapOf(c.req.valid('json').overlap)
    const rotated = await rotateSubscriptionSecret(deps.db(), deps.keyring({sealing: true}), apiAudit(principal), c.req.valid('param').name, {overlapMs, reach: reachOf(principal)})
    c.set('replayAnswer', withoutSecret(rotated))
    return c.json(rotated as never, 200)
  })

  app.openapi(enable, async (c) => {
    const principal = requireScope(c.get('principal'), 'webhooks:write')
    return c.json((await enableSubscription(deps.db(), apiAudit(principal), c.req.valid('param').name, reachOf(principal))) as never, 200)
  })
}
