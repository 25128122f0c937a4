import {randomBytes} from 'node:crypto'

import {sql} from 'kysely'
import {expect, it} from 'vitest'

import {Keyring} from '../../src/crypto/keyring.js'
import type {Db} from '../../src/db/schema.js'
import {evaluateAlerts, quietSince} from '../../src/services/alerts/alert-evaluation.js'
import {reconcileAlerts, type ReconcileResult} from '../../src/services/alerts/alert-reconcile.js'
import {loadRules, updateRule} from '../../src/services/alerts/alert-rules.js'
import {acknowledgeAlert} from '../../src/services/alerts/alerts.js'
import {createSilence, expireSilence} from '../../src/services/alerts/silences.js'
import {revokeCredential, rotateCredential, setCredential} from '../../src/services/credentials/credentials.js'
import {changeTenantStatus, createTenant, updateTenant} from '../../src/services/tenants/tenants.js'
import type {VerificationOutcome} from '../../src/services/verification/verification-result.js'
import {recordAnswer, rulesAsShipped} from '../helpers/verification-answers.js'
import {findWorkspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend, ownDatabase} from '../helpers/backends.js'

/**
 * A run leaves alone the open alerts it can tell are unchanged (alert-evaluation.ts): what
 * they were computed from is the same, the clock is within the span their text holds for,
 * and nothing is due. That is a shortcut, never a change of behaviour: whatever happens,
 * a run decides exactly what re-deciding every open alert decides (as every run did before
 * the shortcut). Two databases go through the same random walk of changes; in the second,
 * every alert's steady state is wiped before each run, so that everything is re-decided.
 */

const audit = {actor: 'oncall', source: 'cli'}
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const keyring = new Keyring({id: 'k', key: randomBytes(32)})
const channels = [
  {minSeverity: 'info' as const, name: 'all'},
  {minSeverity: 'critical' as const, name: 'pager'},
]
const TENANTS = ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8']
/** Expiries from the start of the walk: expired soon, within minutes, hours, days, beyond every threshold. */
const EXPIRIES = [20 * MINUTE, 90 * MINUTE, 5 * HOUR, 30 * HOUR, 50 * HOUR, 6 * DAY, 12 * DAY, 45 * DAY]
const STEPS = [30_000, 50_000, 7 * MINUTE, 59 * MINUTE, 3 * HOUR, 13 * HOUR, DAY, 2.6 * DAY, 9 * DAY]
const OUTCOMES: readonly VerificationOutcome[] = ['valid', 'valid', 'rejected', 'scopes_missing', 'throttled', 'timeout', 'error']
const VERIFICATION_RULES = ['credential_invalid', 'credential_scopes_missing', 'tenant_api_errors', 'tenant_api_slow']

/** A small deterministic generator (mulberry32), so that a failing walk can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d_2b_79_f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** A run's outcome without what differs between two databases by construction (ids, fingerprints: uuids). */
function outcome(result: ReconcileResult): unknown {
  const {digests, escalated, firing, highestFiring, new: opened, reminded, resolved, silenced, superseded} = result
  const notifications = result.notifications
    .map(({channel, covers, message}) => {
      const {alertId: _id, fingerprint: _fingerprint, ...rest} = message
      return JSON.stringify({channel, covers: covers?.length, ...rest})
    })
    .sort()
  return {digests, escalated, firing, highestFiring, notifications, opened, reminded, resolved, silenced, superseded}
}

/** Every alert as it stands, without ids, fingerprints and the steady state itself. */
async function alertsTable(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('alerts')
    .select(['tenant_id', 'rule', 'severity', 'state', 'summary', 'details', 'started_at', 'updated_at', 'resolved_at', 'notified_at', 'notified_severity', 'acknowledged_at'])
    .execute()
  return rows.map((row) => JSON.stringify(row)).sort()
}

/** The suite's database starts each test afresh: no tenants or alerts, the rules as shipped. */
async function afresh(db: Db): Promise<void> {
  await sql`truncate alerts, alert_notifications, silences, tenants restart identity cascade`.execute(db)
  await rulesAsShipped(db)
}

describeEachBackend('alert steady state', (database, backend) => {
  for (const seed of [1, 2, 3]) {
    it(`decides exactly what re-deciding every open alert decides, through a random walk of changes (seed ${seed})`, async () => {
      const shortcut = database().db
      const reference = (await ownDatabase(backend)).db
      const both = async (change: (db: Db) => Promise<unknown>): Promise<void> => {
        await change(shortcut)
        await change(reference)
      }

      const next = random(seed)
      const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T
      const start = new Date(Date.UTC(2031, 0, 6, 9, 0, 0, 123) + seed * 7_777_777)
      let now = start
      await afresh(shortcut)
      await both(async (db) => {
        const workspace = await findWorkspace(db, 'default')
        for (const [index, tenantId] of TENANTS.entries()) {
          await createTenant(db, workspace, audit, {name: `Shop ${tenantId}`, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify'})
          await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId}, {expiresAt: new Date(start.getTime() + (EXPIRIES[index] as number)), value: 'x'}, start)
          if (index % 3 === 0) await setCredential(db, keyring, workspace, audit, {service: 'gmc', tenantId}, {expiresAt: new Date(start.getTime() + 3 * DAY + index * HOUR), value: 'y'}, start)
        }

        // Reminders every few hours, so that a walk of days meets them.
        await updateRule(db, audit, 'credential_expiring', {repeatIntervalMs: 5 * HOUR})
        await updateRule(db, audit, 'credential_scopes_missing', {repeatIntervalMs: 7 * HOUR})
      })

      let quiet = 0
      // Runs that left verification rules' alerts alone, firing.
      let quietWithVerification = 0
      const run = async (step: number): Promise<void> => {
        const stormThreshold = 4
        if (await quietSince(shortcut, now)) {
          quiet++
          const open = await shortcut.selectFrom('alerts').select('id').where('state', '=', 'firing').where('rule', 'in', VERIFICATION_RULES).execute()
          if (open.length > 0) quietWithVerification++
        }

        // The reference re-decides every open alert, as runs did before the steady state.
        await sql`update alerts set subject = null, basis = null, stable_during = null`.execute(reference)
        const expected = await reconcileAlerts(reference, {channels, now, stormThreshold})
        const actual = await reconcileAlerts(shortcut, {channels, now, stormThreshold})
        expect(outcome(actual), `step ${step} at ${now.toISOString()}`).toEqual(outcome(expected))
        expect(await alertsTable(shortcut), `step ${step} at ${now.toISOString()}`).toEqual(await alertsTable(reference))
      }

      await run(0)
      for (let step = 1; step <= 48; step++) {
        const tenantId = pick(TENANTS)
        if (next() < 0.3) {
          // What `credentials verify` says: answers (now or a while ago, fast or slow), or the
          // verification rules' thresholds and switches changed.
          const kind = next()
          if (kind < 0.75) {
            const service = next() < 0.7 ? ('shopify' as const) : ('gmc' as const)
            const outcome = pick(OUTCOMES)
            const latencyMs = pick([90, 800, 2500, 9000])
            const verifiedAt = new Date(now.getTime() - pick([0, 0, 20 * MINUTE, 70 * MINUTE]))
            await both(async (db) => recordAnswer(db, tenantId, outcome, {latencyMs, service, verifiedAt}))
          } else if (kind < 0.88) {
            const errors = {min_calls: pick([1, 2, 3]), percent: pick([0, 5, 30, 60])}
            const slow = {min_calls: pick([1, 2]), p95_ms: pick([500, 2000, 5000])}
            const repeatIntervalMs = pick([HOUR, 3 * HOUR])
            await both(async (db) => {
              await updateRule(db, audit, 'tenant_api_errors', {params: errors, repeatIntervalMs})
              await updateRule(db, audit, 'tenant_api_slow', {params: slow})
            })
          } else {
            const rule = pick(VERIFICATION_RULES)
            const enabled = next() < 0.6
            await both(async (db) => updateRule(db, audit, rule, {enabled}))
          }

          await run(step)
          continue
        }

        const action = next()
        if (action < 0.15) {
          // A run again a moment later, with nothing new: mostly nothing to compare at all.
          now = new Date(now.getTime() + pick([0, 1000, 4000]))
        } else if (action < 0.35) {
          // The clock: mostly forward, now and then back a little (a corrected system clock).
          now = new Date(now.getTime() + (next() < 0.08 ? -5 * MINUTE : pick(STEPS)))
        } else if (action < 0.42) {
          await both(async (db) => updateTenant(db, await findWorkspace(db, 'default'), audit, tenantId, {name: `Shop ${tenantId} ${step}`}))
        } else if (action < 0.48) {
          const status = pick(['active', 'inactive', 'suspended'] as const)
          await both(async (db) => changeTenantStatus(db, await findWorkspace(db, 'default'), audit, tenantId, status).catch(() => {}))
        } else if (action < 0.56) {
          const expiresAt = new Date(now.getTime() + pick([10 * MINUTE, 20 * HOUR, 4 * DAY, 40 * DAY]))
          await both(async (db) => {
            const workspace = await findWorkspace(db, 'default')
            await rotateCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId}, {expiresAt, value: `v${step}`}, now).catch(async () =>
              setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId}, {expiresAt, value: `v${step}`}, now),
            )
          })
        } else if (action < 0.6) {
          await both(async (db) => revokeCredential(db, await findWorkspace(db, 'default'), audit, {service: 'shopify', tenantId}, now).catch(() => {}))
        } else if (action < 0.68) {
          const critical = pick([0, 1, 2])
          const warning = critical + pick([0, 3, 6])
          const params = {critical, info: warning + pick([0, 10, 25]), warning}
          const repeatIntervalMs = pick([2 * HOUR, 5 * HOUR, DAY])
          await both(async (db) => updateRule(db, audit, 'credential_expiring', {params, repeatIntervalMs}))
        } else if (action < 0.72) {
          const rule = pick(['credential_expiring', 'credential_expired', 'tenant_inactive'])
          const enabled = next() < 0.6
          await both(async (db) => updateRule(db, audit, rule, {enabled}))
        } else if (action < 0.8) {
          const matchers = pick([{tenant: tenantId}, {rule: 'credential_expiring'}, {severity: 'critical'}, {tenant: tenantId, rule: 'credential_expired'}, {workspace: 'default'}])
          const durationMs = pick([10 * MINUTE, 6 * HOUR, 3 * DAY])
          await both(async (db) => createSilence(db, audit, {comment: 'walk', durationMs, matchers, now}))
        } else if (action < 0.85) {
          const silences = await shortcut.selectFrom('silences').select('id').where('starts_at', '<', now).where('ends_at', '>', now).orderBy('id').execute()
          if (silences.length > 0) {
            const {id} = pick(silences)
            await both(async (db) => expireSilence(db, audit, Number(id), now))
          }
        } else if (action < 0.93) {
          const firing = (await shortcut.selectFrom('alerts').select(['tenant_id', 'summary']).where('state', '=', 'firing').execute()).sort((a, b) => a.summary.localeCompare(b.summary))
          if (firing.length > 0) {
            const {summary} = pick(firing)
            await both(async (db) => {
              const alert = await db.selectFrom('alerts').select('id').where('state', '=', 'firing').where('summary', '=', summary).executeTakeFirstOrThrow()
              await acknowledgeAlert(db, audit, Number(alert.id), now)
            })
          }
        } else {
          const at = new Date(now.getTime() - pick([0, 10 * DAY, 31 * DAY, 45 * DAY]))
          await both(async (db) => {
            const tenant = await db.selectFrom('tenants').select('id').where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()
            await sql`update tenants set last_activity_at = ${at} where id = ${tenant.id}`.execute(db)
          })
        }

        await run(step)
      }

      // The walk went through runs that compared nothing, and runs that compared everything;
      // some of those that compared nothing left verification rules' alerts firing.
      expect(quiet).toBeGreaterThan(0)
      expect(quiet).toBeLessThan(48)
      expect(quietWithVerification).toBeGreaterThan(0)
    })
  }

  it('reads nothing back on a run with nothing new, and everything again once the clock passes what a summary says', async () => {
    const db = database().db
    await afresh(db)
    const workspace = await findWorkspace(db, 'default')
    const t0 = new Date(Date.UTC(2031, 5, 1, 12, 0, 0))
    for (const [index, tenantId] of ['a1', 'a2', 'a3'].entries()) {
      await createTenant(db, workspace, audit, {name: `Shop ${tenantId}`, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify'})
      // "Expires in 10 days", "11 days", "12 days": each until the time left is 9.5, 10.5, 11.5 days, 18 hours on.
      await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId}, {expiresAt: new Date(t0.getTime() + (10 + index) * DAY + 6 * HOUR), value: 'x'}, t0)
    }

    const first = await reconcileAlerts(db, {channels, now: t0})
    expect(first.new).toBe(3)
    // Nothing changed and the clock reached nothing: the next run need not compare at all.
    expect(await quietSince(db, new Date(t0.getTime() + HOUR))).toEqual({evaluated: 6, steady: {firing: 3, highest: 'info', silenced: 0}})
    expect(await quietSince(db, new Date(t0.getTime() - 1))).toBeUndefined()
    expect(await quietSince(db, new Date(t0.getTime() + 18 * HOUR + 1))).toBeUndefined()
    const rules = await loadRules(db)
    // An hour later nothing can have changed: nothing is read back, yet all three are counted.
    const quiet = await evaluateAlerts(db, rules, new Date(t0.getTime() + HOUR))
    expect({candidates: quiet.candidates.length, open: quiet.open.length, steady: quiet.steady}).toEqual({candidates: 0, open: 0, steady: {firing: 3, highest: 'info', silenced: 0}})
    expect((await reconcileAlerts(db, {channels, now: new Date(t0.getTime() + HOUR)})).firing).toBe(3)

    // A renamed tenant: a run compares again, and reads back its alert only.
    await updateTenant(db, workspace, audit, 'a2', {name: 'Renamed'})
    expect(await quietSince(db, new Date(t0.getTime() + 2 * HOUR))).toBeUndefined()
    const renamed = await evaluateAlerts(db, rules, new Date(t0.getTime() + 2 * HOUR))
    expect(renamed.candidates.map((candidate) => candidate.tenantId)).toEqual(['a2'])
    expect(renamed.open).toHaveLength(1)

    // 19 hours on, "10 days" became "9 days" and so on for all: each is read back once, rewritten, and left alone after.
    const later = new Date(t0.getTime() + 19 * HOUR)
    expect((await evaluateAlerts(db, rules, later)).open).toHaveLength(3)
    await reconcileAlerts(db, {channels, now: later})
    expect((await evaluateAlerts(db, rules, later)).open).toHaveLength(0)
    const summaries = (await db.selectFrom('alerts').select('summary').where('state', '=', 'firing').execute()).map((row) => row.summary).sort()
    expect(summaries).toEqual(['Shopify credential of Renamed (a2) expires in 10 days', 'Shopify credential of Shop a1 (a1) expires in 9 days', 'Shopify credential of Shop a3 (a3) expires in 11 days'])
  })

  it('compares again exactly when the clock alone changes something: a silence ends, a tenant falls silent, a reminder falls due, a credential comes within reach', async () => {
    const db = database().db
    await afresh(db)
    const workspace = await findWorkspace(db, 'default')
    const t0 = new Date(Date.UTC(2031, 8, 1, 8, 0, 0))
    const at = (ms: number): Date => new Date(t0.getTime() + ms)
    for (const tenantId of ['q1', 'q2', 'q3']) await createTenant(db, workspace, audit, {name: `Shop ${tenantId}`, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify'})
    await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'q1'}, {expiresAt: at(10 * DAY + 6 * HOUR), value: 'x'}, t0)
    // Within the 30 days' reach 8 hours on.
    await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'q2'}, {expiresAt: at(30 * DAY + 8 * HOUR), value: 'x'}, t0)
    // Silent for 30 days 4 hours on.
    await sql`update tenants set last_activity_at = ${at(-30 * DAY + 4 * HOUR)} where tenant_id in ('q1', 'q2', 'q3')`.execute(db)
    await sql`update tenants set last_activity_at = ${t0} where tenant_id in ('q1', 'q2')`.execute(db)
    await updateRule(db, audit, 'credential_expiring', {repeatIntervalMs: 5 * HOUR})
    const quietUntil = async (instant: Date): Promise<void> => {
      expect(await quietSince(db, new Date(instant.getTime() - 1))).toBeDefined()
      expect(await quietSince(db, instant)).toBeUndefined()
    }

    expect((await reconcileAlerts(db, {channels, now: t0})).new).toBe(1)
    await createSilence(db, audit, {comment: 'maintenance', durationMs: 2 * HOUR, matchers: {tenant: 'q1'}, now: t0})
    expect(await quietSince(db, t0)).toBeUndefined()
    await reconcileAlerts(db, {channels, now: t0})
    // The silence ends (q1's reminder, muted, is due only then).
    await quietUntil(at(2 * HOUR))
    await reconcileAlerts(db, {channels, now: at(2 * HOUR)})
    // q3 falls silent for 30 days.
    await quietUntil(at(4 * HOUR))
    expect((await reconcileAlerts(db, {channels, now: at(4 * HOUR)})).new).toBe(1)
    // q1's reminder, 5 hours after it was notified.
    await quietUntil(at(5 * HOUR))
    expect((await reconcileAlerts(db, {channels, now: at(5 * HOUR)})).reminded).toBe(1)
    // Acknowledged, q1 is reminded no more: q2 comes within reach next (a millisecond early is safe).
    const q1 = await db.selectFrom('alerts').select('id').where('tenant_id', '=', 'q1').where('state', '=', 'firing').executeTakeFirstOrThrow()
    await acknowledgeAlert(db, audit, Number(q1.id), at(5 * HOUR))
    expect(await quietSince(db, at(5 * HOUR))).toBeUndefined()
    await reconcileAlerts(db, {channels, now: at(5 * HOUR)})
    await quietUntil(at(8 * HOUR - 1))
    expect((await reconcileAlerts(db, {channels, now: at(8 * HOUR)})).new).toBe(1)
  })
})
