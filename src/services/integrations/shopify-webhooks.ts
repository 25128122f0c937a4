import {createHmac, timingSafeEqual} from 'node:crypto'

import type {Db} from '../../db/schema.js'
import {type Audit, type NewEvent, recordEvents} from '../events/events.js'

/**
 * Webhooks from a Shopify app (shopify.dev, "Deliver webhooks through HTTPS"): each request
 * is signed with `X-Shopify-Hmac-Sha256`, the base64 HMAC-SHA256 of the raw body with the
 * app's client secret, and retried (with the same `X-Shopify-Webhook-Id`) until it gets a
 * 2xx within 5 seconds. Each id is applied once.
 */

/** Whether the signature is that of the raw body under one of the secrets (the old and the new during a rotation). */
export function verifyShopifyHmac(rawBody: Buffer, signature: string | undefined, secrets: readonly string[]): boolean {
  if (!signature || secrets.length === 0) return false
  const given = Buffer.from(signature.trim(), 'base64')
  if (given.length !== 32) return false
  let valid = false
  // Every secret is tried, so the time taken does not say which one matched.
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest()
    if (timingSafeEqual(expected, given)) valid = true
  }

  return valid
}

export interface ShopifyDelivery {
  readonly shop: string
  readonly topic: string
  readonly webhookId: string
}

export interface ShopifyWebhookOutcome {
  /** False when this webhook id was applied before (a retry): nothing changed. */
  readonly applied: boolean
  /** What it did, for the answer and the audit trail. */
  readonly effect: 'activity recorded' | 'credentials destroyed' | 'no customer data held' | 'recorded' | 'tenant deactivated' | 'duplicate'
  /** The shop's tenants it touched. */
  readonly tenants: number
}

export const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/

/**
 * Applies a verified webhook, once per webhook id, in one transaction with its audit event:
 * `app/uninstalled` makes the shop's tenants inactive; `shop/redact` (48 hours after an
 * uninstall) destroys their stored credentials; `customers/data_request` and
 * `customers/redact` need nothing (synthex holds no customer data); `products/*` count as a
 * sign of life of the tenant. Any other topic is recorded.
 */
export async function applyShopifyWebhook(db: Db, audit: Audit, delivery: ShopifyDelivery, now = new Date()): Promise<ShopifyWebhookOutcome> {
  return db.transaction().execute(async (trx) => {
    const first = await trx
      .insertInto('shopify_webhooks')
      .values({shop: delivery.shop, topic: delivery.topic, webhook_id: delivery.webhookId})
      .onConflict((conflict) => conflict.column('webhook_id').doNothing())
      .returning('webhook_id')
      .executeTakeFirst()
    if (!first) return {applied: false, effect: 'duplicate', tenants: 0}

    const tenants = await trx.selectFrom('tenants').select(['id', 'tenant_id', 'workspace_id', 'status']).where('shopify_shop', '=', delivery.shop).forUpdate().execute()
    let effect: ShopifyWebhookOutcome['effect'] = 'recorded'
    const events: NewEvent[] = []
    const about = {shop: delivery.shop, topic: delivery.topic, webhookId: delivery.webhookId}
    if (delivery.topic === 'app/uninstalled') {
      effect = 'tenant deactivated'
      const active = tenants.filter((tenant) => tenant.status !== 'inactive')
      if (active.length > 0) {
        await trx.updateTable('tenants').set({status: 'inactive', updated_at: now}).where('id', 'in', active.map((tenant) => tenant.id)).execute()
      }

      for (const tenant of active) {
        events.push({aggregateId: tenant.tenant_id, aggregateType: 'tenant', data: {...about, changes: {status: {from: tenant.status, to: 'inactive'}}}, type: 'tenant.deactivated', workspaceId: tenant.workspace_id})
      }
    } else if (delivery.topic === 'shop/redact') {
      effect = 'credentials destroyed'
      if (tenants.length > 0) {
        const destroyed = await trx.deleteFrom('credentials').where('tenant_id', 'in', tenants.map((tenant) => tenant.id)).returning(['tenant_id', 'service', 'label', 'version', 'fingerprint']).execute()
        for (const tenant of tenants) {
          const own = destroyed.filter((credential) => credential.tenant_id === tenant.id)
          if (own.length > 0) {
            events.push({aggregateId: tenant.tenant_id, aggregateType: 'tenant', data: {...about, credentials: own.map(({fingerprint, label, service, version}) => ({fingerprint, label, service, version}))}, type: 'credential.destroyed', workspaceId: tenant.workspace_id})
          }
        }
      }
    } else if (delivery.topic === 'customers/data_request' || delivery.topic === 'customers/redact') {
      effect = 'no customer data held'
    } else if (delivery.topic.startsWith('products/')) {
      effect = 'activity recorded'
      if (tenants.length > 0) {
        await trx.updateTable('tenants').set({last_activity_at: now}).where('id', 'in', tenants.map((tenant) => tenant.id)).execute()
      }
    }

    const received = tenants.length > 0 ? tenants.map((tenant) => ({aggregateId: tenant.tenant_id, aggregateType: 'tenant', workspaceId: tenant.workspace_id})) : [{aggregateId: delivery.shop, aggregateType: 'shop', workspaceId: null}]
    await recordEvents(trx, audit, [...received.map((target) => ({...target, data: {...about, effect}, type: 'shopify.webhook'})), ...events])
    return {applied: true, effect, tenants: tenants.length}
  })
}
