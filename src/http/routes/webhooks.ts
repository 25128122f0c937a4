import {createRoute, z} from '@hono/zod-openapi'

import {shopifyWebhookSecrets} from '../../config/environment.js'
import {applyShopifyWebhook, SHOP_DOMAIN, verifyShopifyHmac} from '../../services/integrations/shopify-webhooks.js'
import {createTenant} from '../../services/tenants/tenants.js'
import {apiAudit, requestDb, requestWorkspace, type ServeApp, type ServeDependencies} from '../app.js'
import {requireScope} from '../auth.js'
import {HttpError} from '../http-errors.js'
import {BEARER_SECURITY, ERROR_RESPONSES, ErrorSchema, jsonResponse, TenantSchema} from '../tenant-schemas.js'
import {TENANT_FIELDS} from '../../domain/tenant-fields.js'


/** What Zapier's and Make's "new tenant" steps post: the tenant's fields in snake_case, as in a CSV row. */
const TriggerSchema = z
  .object({
    data: z.object({
      ...Object.fromEntries(TENANT_FIELDS.map((field) => [field, z.string().max(10_000).nullable().optional()])),
      workspace_id: z.string().max(63).optional().openapi({description: 'The workspace\'s slug (default: ?workspace=, else default).'}),
    }),
    trigger: z.string().max(100),
  })
  .openapi('IntegrationTrigger', {example: {data: {name: 'Acme US', shopify_shop: 'acme-us.myshopify.com', tenant_id: 'acme-us', type: 'shopify'}, trigger: 'new_tenant'}})

function triggerRoute(platform: 'make' | 'zapier') {
  return createRoute({
    method: 'post',
    path: `/api/webhooks/${platform}`,
    request: {body: {content: {'application/json': {schema: TriggerSchema}}, required: true}},
    responses: {
      201: jsonResponse(TenantSchema, 'The tenant created.'),
      400: jsonResponse(ErrorSchema, 'An unknown trigger.'),
      409: jsonResponse(ErrorSchema, 'The tenant exists already.'),
      ...ERROR_RESPONSES,
    },
    security: BEARER_SECURITY,
    summary: `${platform === 'zapier' ? 'Zapier' : 'Make'}: create a tenant (scope tenants:write; honours Idempotency-Key)`,
    tags: ['webhooks'],
  })
}

const shopify = createRoute({
  method: 'post',
  path: '/api/webhooks/shopify',
  responses: {
    200: jsonResponse(z.object({applied: z.boolean(), effect: z.string(), tenants: z.number().int()}), 'Applied, or a retry of one applied before (applied: false).'),
    400: jsonResponse(ErrorSchema, 'Not a webhook: headers missing, or the body is not JSON.'),
    401: jsonResponse(ErrorSchema, 'X-Shopify-Hmac-Sha256 does not verify against SHOPIFY_WEBHOOK_SECRET.'),
  },
  summary: 'Shopify app webhooks (signed with X-Shopify-Hmac-Sha256; no key)',
  tags: ['webhooks'],
})

export function webhookRoutes(app: ServeApp, deps: ServeDependencies): void {
  for (const platform of ['zapier', 'make'] as const) {
    app.openapi(triggerRoute(platform), async (c) => {
      const principal = requireScope(c.get('principal'), 'tenants:write')
      const {data, trigger} = c.req.valid('json')
      if (trigger !== 'new_tenant') throw new HttpError(400, 'UNKNOWN_TRIGGER', `Unknown trigger "${trigger.slice(0, 100)}": the only trigger is new_tenant.`, {details: {triggers: ['new_tenant']}})
      const {workspace_id: slug, ...fields} = data
      // The body's workspace, else ?workspace=, else default; outside the caller's reach: 404.
      const workspace = await requestWorkspace(c, deps, principal, slug ?? c.req.query('workspace') ?? 'default')
      const tenant = await createTenant(requestDb(c, deps), workspace, apiAudit(principal), fields)
      return c.json(tenant, 201)
    })
  }

  app.openapi(shopify, async (c) => {
    // The signature is over the raw bytes: checked before anything reads the body as JSON.
    const raw = Buffer.from(await c.req.arrayBuffer())
    if (!verifyShopifyHmac(raw, c.req.header('x-shopify-hmac-sha256'), shopifyWebhookSecrets())) {
      throw new HttpError(401, 'INVALID_SIGNATURE', 'X-Shopify-Hmac-Sha256 does not verify with SHOPIFY_WEBHOOK_SECRET.')
    }

    const topic = c.req.header('x-shopify-topic') ?? ''
    const shop = (c.req.header('x-shopify-shop-domain') ?? '').toLowerCase()
    const webhookId = c.req.header('x-shopify-webhook-id') ?? ''
    if (!/^[a-z_]+\/[a-z_]+$/.test(topic) || !SHOP_DOMAIN.test(shop) || !/^[\w-]{1,255}$/.test(webhookId)) {
      throw new HttpError(400, 'INVALID_WEBHOOK', 'A Shopify webhook needs X-Shopify-Topic, X-Shopify-Shop-Domain (<shop>.myshopify.com) and X-Shopify-Webhook-Id.')
    }

    try {
      JSON.parse(raw.toString('utf8'))
    } catch {
      throw new HttpError(400, 'INVALID_JSON', 'The body is not valid JSON.')
    }

    const outcome = await applyShopifyWebhook(deps.db(), {actor: `shopify:${shop}`, source: 'api'}, {shop, topic, webhookId})
    return c.json(outcome, 200)
  })
}
