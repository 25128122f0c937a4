import {randomBytes} from 'node:crypto'

import {sql} from 'kysely'
import {beforeEach, expect, it} from 'vitest'

import {Keyring} from '../../src/crypto/keyring.js'
import type {Db} from '../../src/db/schema.js'
import {evaluateAlerts, quietSince} from '../../src/services/alerts/alert-evaluation.js'
import {reconcileAlerts, type ReconcileResult} from '../../src/services/alerts/alert-reconcile.js'
import {loadRules, updateRule} from '../../src/services/alerts/alert-rules.js'
import {createSilence} from '../../src/services/alerts/silences.js'
import {revokeCredential, rotateCredential, setCredential} from '../../src/services/credentials/credentials.js'
import {changeTenantStatus, createTenant, updateTenant} from '../../src/services/tenants/tenants.js'
import type {VerificationOutcome} from '../../src/services/verification/verification-result.js'
import {type Answer, recordAnswer, rulesAsShipped} from '../helpers/verification-answers.js'
import {findWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend} from '../helpers/backends.js'

/**
 * The verification rules (alert-verification-rules.ts) on answers recorded as
 * `credentials verify` records them (verification-store.ts): what fires, escalates and
 * resolves, the thresholds `alerts rules set` changes, and the runs with nothing new, which
 * leave their alerts firing and counted.
 */

const audit = {actor: 'oncall', source: 'cli'}
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const keyring = new Keyring({id: 'k', key: randomBytes(32)})
const channels = [{minSeverity: 'info' as const, name: 'all'}]
const T0 = new Date(Date.UTC(2031, 2, 3, 10, 0, 0))
const at = (ms: number): Date => new Date(T0.getTime() + ms)

/** Records one answer for a tenant's active credential of a service, as a verification run would. */
async function answer(db: Db, tenantId: string, outcome: VerificationOutcome, options: Answer): Promise<void> {
  expect(await recordAnswer(db, tenantId, outcome, options), `${tenantId} has an active credential`).toBe(true)
}

/** What a user reads of a run: each notification's kind, rule, severity and summary. */
const said = (result: ReconcileResult): string[] => result.notifications.map(({message}) => `${message.kind} ${message.rule} ${message.severity}: ${message.summary}`).sort()

async function firing(db: Db): Promise<Array<{details: Record<string, unknown>; rule: string; severity: string; summary: string}>> {
  return db.selectFrom('alerts').select(['rule', 'severity', 'summary', 'details']).where('state', '=', 'firing').orderBy('rule').orderBy('summary').execute()
}

describeEachBackend('alert verification rules', (database) => {
  let db: Db
  let workspace: Workspace

  beforeEach(async () => {
    db = database().db
    await sql`truncate alerts, alert_notifications, silences, tenants restart identity cascade`.execute(db)
    await rulesAsShipped(db)
    workspace = await findWorkspace(db, 'default')
    for (const [tenantId, name] of [
      ['acme-1', 'Acme'],
      ['globex-2', 'Globex'],
    ] as const) {
      await createTenant(db, workspace, audit, {gmc_merchant_id: '123456', name, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'mixed'})
      await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId}, {value: 'shpat_canary'}, T0)
      await setCredential(db, keyring, workspace, audit, {service: 'gmc', tenantId}, {value: '{"type":"service_account"}'}, T0)
    }
  })

  it('credential_invalid: fires when the provider rejects a credential, holds while nothing new is said, resolves on a valid answer', async () => {
    await answer(db, 'acme-1', 'valid', {verifiedAt: at(0)})
    await answer(db, 'globex-2', 'valid', {verifiedAt: at(0)})
    expect(said(await reconcileAlerts(db, {channels, now: at(MINUTE)}))).toEqual([])

    await answer(db, 'acme-1', 'rejected', {message: '[API] Invalid API key or access token (unrecognized login or wrong password)', verifiedAt: at(2 * MINUTE)})
    const opened = await reconcileAlerts(db, {channels, now: at(3 * MINUTE)})
    expect(said(opened)).toEqual(['firing credential_invalid critical: Shopify credential of Acme (acme-1) is rejected by the provider: revoked_or_invalid (401)'])
    expect(opened.highestFiring).toBe('critical')
    const [alert] = await firing(db)
    expect(alert?.details).toEqual({
      httpStatus: 401,
      label: 'default',
      message: '[API] Invalid API key or access token (unrecognized login or wrong password)',
      reason: 'revoked_or_invalid',
      service: 'shopify',
      verifiedAt: at(2 * MINUTE).toISOString(),
    })

    // Hours on, nothing new: no comparison, and the alert is still firing and counted (a
    // credential_invalid reminder is due hourly: the run at 50 minutes is quiet).
    expect(await quietSince(db, at(50 * MINUTE))).toBeDefined()
    const quiet = await reconcileAlerts(db, {channels, now: at(50 * MINUTE)})
    expect({firing: quiet.firing, highest: quiet.highestFiring, resolved: quiet.resolved, said: said(quiet)}).toEqual({firing: 1, highest: 'critical', resolved: 0, said: []})

    // Rejected again, for another reason: the summary follows, nothing is sent (not worse).
    await answer(db, 'acme-1', 'rejected', {httpStatus: 402, reason: 'shop_frozen', verifiedAt: at(55 * MINUTE)})
    expect(said(await reconcileAlerts(db, {channels, now: at(56 * MINUTE)}))).toEqual([])
    expect((await firing(db)).map((row) => row.summary)).toEqual(['Shopify credential of Acme (acme-1) is rejected by the provider: shop_frozen (402)'])

    await answer(db, 'acme-1', 'valid', {verifiedAt: at(58 * MINUTE)})
    const resolved = await reconcileAlerts(db, {channels, now: at(59 * MINUTE)})
    expect(said(resolved)).toEqual(['resolved credential_invalid critical: Shopify credential of Acme (acme-1) is rejected by the provider: shop_frozen (402)'])
    expect(await firing(db)).toEqual([])
  })

  it('credential_invalid resolves when the credential is rotated or revoked, and fires again for a new version rejected, as the same alert slot', async () => {
    await answer(db, 'acme-1', 'rejected', {verifiedAt: at(0)})
    await answer(db, 'globex-2', 'rejected', {reason: 'invalid_grant', service: 'gmc', verifiedAt: at(0)})
    expect(said(await reconcileAlerts(db, {channels, now: at(MINUTE)}))).toEqual([
      'firing credential_invalid critical: Merchant Center credential of Globex (globex-2) is rejected by the provider: invalid_grant (401)',
      'firing credential_invalid critical: Shopify credential of Acme (acme-1) is rejected by the provider: revoked_or_invalid (401)',
    ])
    const fingerprints = await db.selectFrom('alerts').select('fingerprint').orderBy('tenant_id').execute()

    await rotateCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'acme-1'}, {value: 'shpat_new'}, at(2 * MINUTE))
    await revokeCredential(db, workspace, audit, {service: 'gmc', tenantId: 'globex-2'}, at(2 * MINUTE))
    const gone = await reconcileAlerts(db, {channels, now: at(3 * MINUTE)})
    expect({firing: gone.firing, resolved: gone.resolved}).toEqual({firing: 0, resolved: 2})

    // The new version is rejected too: the same slot, the same fingerprint, a new episode.
    await answer(db, 'acme-1', 'rejected', {verifiedAt: at(4 * MINUTE)})
    expect(said(await reconcileAlerts(db, {channels, now: at(5 * MINUTE)}))).toEqual([
      'firing credential_invalid critical: Shopify credential of Acme (acme-1) is rejected by the provider: revoked_or_invalid (401)',
    ])
    const again = await db.selectFrom('alerts').select('fingerprint').where('state', '=', 'firing').executeTakeFirstOrThrow()
    expect(again.fingerprint).toBe(fingerprints[0]?.fingerprint)
  })

  it('credential_scopes_missing: a warning naming the missing scopes; it gives way to credential_invalid when the credential is then rejected', async () => {
    await answer(db, 'acme-1', 'scopes_missing', {scopesMissing: ['read_orders', 'read_inventory'], verifiedAt: at(0)})
    expect(said(await reconcileAlerts(db, {channels, now: at(MINUTE)}))).toEqual([
      'firing credential_scopes_missing warning: Shopify credential of Acme (acme-1) lacks required scopes: read_orders, read_inventory',
    ])
    expect((await firing(db))[0]?.details).toMatchObject({httpStatus: 200, reason: 'scopes_missing', scopesMissing: ['read_orders', 'read_inventory']})

    await answer(db, 'acme-1', 'rejected', {verifiedAt: at(2 * MINUTE)})
    const result = await reconcileAlerts(db, {channels, now: at(3 * MINUTE)})
    expect(said(result)).toEqual([
      'firing credential_invalid critical: Shopify credential of Acme (acme-1) is rejected by the provider: revoked_or_invalid (401)',
      'resolved credential_scopes_missing warning: Shopify credential of Acme (acme-1) lacks required scopes: read_orders, read_inventory',
    ])
  })

  it('tenant_api_errors and tenant_api_slow: over the hour up to the latest answer, not the clock; thresholds from alerts rules set', async () => {
    // Globex: 1 failed call of 4 in its last hour (25%), p95 well over 2 s; an older failure is outside the window.
    await answer(db, 'globex-2', 'error', {verifiedAt: at(-3 * HOUR)})
    await answer(db, 'globex-2', 'valid', {latencyMs: 300, verifiedAt: at(-50 * MINUTE)})
    await answer(db, 'globex-2', 'timeout', {latencyMs: 10_000, service: 'gmc', verifiedAt: at(-40 * MINUTE)})
    await answer(db, 'globex-2', 'valid', {latencyMs: 400, verifiedAt: at(-20 * MINUTE)})
    await answer(db, 'globex-2', 'valid', {latencyMs: 2500, service: 'gmc', verifiedAt: at(0)})
    // Acme: all valid and fast.
    await answer(db, 'acme-1', 'valid', {latencyMs: 150, verifiedAt: at(0)})
    const opened = await reconcileAlerts(db, {channels, now: at(MINUTE)})
    expect(said(opened)).toEqual([
      'firing tenant_api_errors warning: Globex (globex-2): 1 of 4 API calls failed (25%, over 5%) in the hour up to its last verification',
      'firing tenant_api_slow warning: Globex (globex-2): API calls took 8,875 ms at p95 (over 2,000 ms) in the hour up to its last verification',
    ])
    expect((await firing(db)).map((row) => row.details)).toEqual([
      {calls: 4, failed: 1, failedPercent: 25, thresholdPercent: 5, windowEnd: at(0).toISOString(), windowStart: at(-HOUR).toISOString()},
      {calls: 4, p95Ms: 8875, thresholdMs: 2000, windowEnd: at(0).toISOString(), windowStart: at(-HOUR).toISOString()},
    ])

    // Five hours later, with no verification since, both still hold (and are reminded hourly).
    const later = await reconcileAlerts(db, {channels, now: at(5 * HOUR)})
    expect({firing: later.firing, reminded: later.reminded, resolved: later.resolved}).toEqual({firing: 2, reminded: 2, resolved: 0})

    // Thresholds raised: both resolve; lowered minimum of calls above what there is: nothing fires.
    await updateRule(db, audit, 'tenant_api_errors', {params: {percent: 25}})
    await updateRule(db, audit, 'tenant_api_slow', {params: {p95_ms: 10_000}})
    expect(said(await reconcileAlerts(db, {channels, now: at(5 * HOUR + MINUTE)}))).toEqual([
      'resolved tenant_api_errors warning: Globex (globex-2): 1 of 4 API calls failed (25%, over 5%) in the hour up to its last verification',
      'resolved tenant_api_slow warning: Globex (globex-2): API calls took 8,875 ms at p95 (over 2,000 ms) in the hour up to its last verification',
    ])
    await updateRule(db, audit, 'tenant_api_errors', {params: {min_calls: 5, percent: 0}})
    expect((await reconcileAlerts(db, {channels, now: at(5 * HOUR + 2 * MINUTE)})).new).toBe(0)
    await updateRule(db, audit, 'tenant_api_errors', {params: {min_calls: 4}})
    expect(said(await reconcileAlerts(db, {channels, now: at(5 * HOUR + 3 * MINUTE)}))).toEqual([
      'firing tenant_api_errors warning: Globex (globex-2): 1 of 4 API calls failed (25%, over 0%) in the hour up to its last verification',
    ])

    // A new hour of good answers: the window moves with them, and the alert resolves.
    await answer(db, 'globex-2', 'valid', {latencyMs: 100, verifiedAt: at(6 * HOUR)})
    await answer(db, 'globex-2', 'valid', {latencyMs: 100, service: 'gmc', verifiedAt: at(6 * HOUR)})
    const resolved = await reconcileAlerts(db, {channels, now: at(6 * HOUR + MINUTE)})
    expect({firing: resolved.firing, resolved: resolved.resolved}).toEqual({firing: 0, resolved: 1})
  })

  it('refuses thresholds that mean nothing', async () => {
    await expect(updateRule(db, audit, 'tenant_api_errors', {params: {percent: 101}})).rejects.toThrow(/percent/)
    await expect(updateRule(db, audit, 'tenant_api_slow', {params: {min_calls: 0}})).rejects.toThrow(/min_calls/)
    await expect(updateRule(db, audit, 'tenant_api_slow', {params: {p95_ms: 0}})).rejects.toThrow(/p95_ms/)
    await expect(updateRule(db, audit, 'credential_invalid', {params: {days: 3}})).rejects.toThrow(/not a setting of credential_invalid/)
    const rules = await loadRules(db)
    expect(rules.filter((rule) => rule.name.startsWith('tenant_api')).map((rule) => [rule.name, rule.params])).toEqual([
      ['tenant_api_errors', {min_calls: 1, percent: 5}],
      ['tenant_api_slow', {min_calls: 1, p95_ms: 2000}],
    ])
  })

  it('a run with nothing new leaves them firing and counted, reads none of them back, and compares again when a reminder falls due', async () => {
    await answer(db, 'acme-1', 'rejected', {verifiedAt: at(0)})
    await answer(db, 'globex-2', 'scopes_missing', {scopesMissing: ['content'], service: 'gmc', verifiedAt: at(0)})
    await answer(db, 'globex-2', 'throttled', {latencyMs: 3000, verifiedAt: at(0)})
    const first = await reconcileAlerts(db, {channels, now: at(0)})
    expect({firing: first.firing, new: first.new}).toEqual({firing: 4, new: 4})

    // Quiet: the counts of the last comparison, the four alerts among them.
    expect(await quietSince(db, at(MINUTE))).toEqual({evaluated: 6, steady: {firing: 4, highest: 'critical', silenced: 0}})
    const rules = await loadRules(db)
    const quiet = await evaluateAlerts(db, rules, at(MINUTE), await quietSince(db, at(MINUTE)))
    expect({candidates: quiet.candidates.length, open: quiet.open.length}).toEqual({candidates: 0, open: 0})
    const second = await reconcileAlerts(db, {channels, now: at(MINUTE)})
    expect({firing: second.firing, highest: second.highestFiring, notifications: second.notifications.length, resolved: second.resolved}).toEqual({
      firing: 4,
      highest: 'critical',
      notifications: 0,
      resolved: 0,
    })

    // The hourly reminders of credential_invalid and tenant_api_* are a change of the clock.
    expect(await quietSince(db, at(HOUR - 1))).toBeDefined()
    expect(await quietSince(db, at(HOUR))).toBeUndefined()
    const reminded = await reconcileAlerts(db, {channels, now: at(HOUR)})
    expect(said(reminded)).toEqual([
      'reminder credential_invalid critical: Shopify credential of Acme (acme-1) is rejected by the provider: revoked_or_invalid (401)',
      'reminder tenant_api_errors warning: Globex (globex-2): 1 of 2 API calls failed (50%, over 5%) in the hour up to its last verification',
      'reminder tenant_api_slow warning: Globex (globex-2): API calls took 2,856 ms at p95 (over 2,000 ms) in the hour up to its last verification',
    ])
    expect(await quietSince(db, at(HOUR + MINUTE))).toBeDefined()

    // A silence counts them silenced while it lasts.
    await createSilence(db, audit, {comment: 'provider incident', durationMs: 2 * HOUR, matchers: {tenant: 'globex-2'}, now: at(HOUR + MINUTE)})
    const muted = await reconcileAlerts(db, {channels, now: at(HOUR + MINUTE)})
    expect({firing: muted.firing, silenced: muted.silenced}).toEqual({firing: 4, silenced: 3})
    expect(await quietSince(db, at(HOUR + 2 * MINUTE))).toEqual({evaluated: 6, steady: {firing: 4, highest: 'critical', silenced: 3}})
  })

  it('suspended tenants never alert; a renamed tenant is named anew', async () => {
    await answer(db, 'acme-1', 'rejected', {verifiedAt: at(0)})
    await answer(db, 'acme-1', 'error', {service: 'gmc', verifiedAt: at(0)})
    expect((await reconcileAlerts(db, {channels, now: at(MINUTE)})).new).toBe(2)

    await updateTenant(db, workspace, audit, 'acme-1', {name: 'Acme Europe'})
    await reconcileAlerts(db, {channels, now: at(2 * MINUTE)})
    expect((await firing(db)).map((row) => row.summary)).toEqual([
      'Shopify credential of Acme Europe (acme-1) is rejected by the provider: revoked_or_invalid (401)',
      'Acme Europe (acme-1): 1 of 2 API calls failed (50%, over 5%) in the hour up to its last verification',
    ])

    await changeTenantStatus(db, workspace, audit, 'acme-1', 'suspended')
    expect((await reconcileAlerts(db, {channels, now: at(3 * MINUTE)})).resolved).toBe(2)
    await answer(db, 'acme-1', 'rejected', {verifiedAt: at(4 * MINUTE)})
    const suspended = await reconcileAlerts(db, {channels, now: at(5 * MINUTE)})
    expect({firing: suspended.firing, new: suspended.new}).toEqual({firing: 0, new: 0})
  })

  it('a rule turned off resolves its alerts', async () => {
    await answer(db, 'acme-1', 'rejected', {verifiedAt: at(0)})
    expect((await reconcileAlerts(db, {channels, now: at(MINUTE)})).new).toBe(1)
    await updateRule(db, audit, 'credential_invalid', {enabled: false})
    expect((await reconcileAlerts(db, {channels, now: at(2 * MINUTE)})).resolved).toBe(1)
    await updateRule(db, audit, 'credential_invalid', {enabled: true})
    expect((await reconcileAlerts(db, {channels, now: at(3 * MINUTE)})).new).toBe(1)
  })
})
