import {randomBytes} from 'node:crypto'

import {sql} from 'kysely'
import {afterAll, beforeAll, beforeEach, expect, it} from 'vitest'

import {providerEnvironment} from '../../src/config/environment.js'
import {Keyring} from '../../src/crypto/keyring.js'
import {ConflictError} from '../../src/errors/input-errors.js'
import {INTERNAL_POLICY} from '../../src/net/address-policy.js'
import {setCredential} from '../../src/services/credentials/credentials.js'
import {createTenant} from '../../src/services/tenants/tenants.js'
import {runVerification, VerificationNotDue} from '../../src/services/verification/verification-run.js'
import {verificationDue} from '../../src/services/verification/verification-schedule.js'
import {findWorkspace} from '../../src/services/workspaces/workspaces.js'
import {ShopifyAdminFake} from '../fakes/shopify-admin-fake.js'
import {describeEachBackend} from '../helpers/backends.js'

const audit = {actor: 'cron', source: 'cli'}
const keyring = new Keyring({id: 'k', key: randomBytes(32)})
const HOUR = 3_600_000

/** Who may run a fleet verification when: one process at a time per scope, once per period for the schedule. */
describeEachBackend('verification runs', (database) => {
  let fake: ShopifyAdminFake
  beforeAll(async () => {
    fake = await new ShopifyAdminFake().listen()
  })
  afterAll(async () => {
    await fake.close()
  })

  beforeEach(async () => {
    const {db} = database()
    await sql`truncate verification_runs, credential_verifications, tenants cascade`.execute(db)
    const workspace = await findWorkspace(db, 'default')
    for (const name of ['alpha', 'beta', 'gamma']) {
      const token = `shpat_${randomBytes(16).toString('hex')}`
      fake.shop(`runs-${name}.myshopify.com`, {scopes: ['read_products'], token})
      await createTenant(db, workspace, audit, {name, shopify_shop: `runs-${name}.myshopify.com`, tenant_id: name, type: 'shopify'})
      await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: name}, {value: token})
    }
  })

  const options = (overrides: {dueAfterMs?: number; signal?: AbortSignal} = {}) => ({
    audit,
    concurrency: 2,
    endpoints: providerEnvironment({SYNTHEX_SHOPIFY_API_URL: fake.apiUrl}),
    keyring,
    network: INTERNAL_POLICY,
    timeoutMs: 10_000,
    ...overrides,
  })

  it('lets one process verify a scope at a time: a second is refused while the first holds the lease', async () => {
    const {db} = database()
    fake.answerDelay(200)
    const first = runVerification(db, {}, options())
    // The first has claimed the run once its first request reached the provider.
    for (let waited = 0; fake.requests.length === 0 && waited < 400; waited++) await new Promise((resolve) => setTimeout(resolve, 25))
    await expect(runVerification(db, {}, options())).rejects.toThrow(ConflictError)
    expect(await first).toMatchObject({counts: {valid: 3}, interrupted: false, resumed: false, verified: 3})
    fake.answerDelay(0)
  })

  it('a scheduled run does nothing within its period, whoever ran the last one, and runs once it is over', async () => {
    const {db} = database()
    expect(await verificationDue(db, HOUR)).toBe(true)
    expect(await runVerification(db, {}, options({dueAfterMs: HOUR}))).toMatchObject({verified: 3})
    expect(await verificationDue(db, HOUR)).toBe(false)
    // The look said due, but another process verified meanwhile: the claim itself decides.
    await expect(runVerification(db, {}, options({dueAfterMs: HOUR}))).rejects.toThrow(VerificationNotDue)
    await sql`update verification_runs set started_at = started_at - interval '2 hours'`.execute(db)
    expect(await verificationDue(db, HOUR)).toBe(true)
    expect(await runVerification(db, {}, options({dueAfterMs: HOUR}))).toMatchObject({resumed: false, verified: 3})
  })

  it('an interrupted run releases its lease: the next resumes it at once, verifying only the rest', async () => {
    const {db} = database()
    fake.answerDelay(300)
    const stop = new AbortController()
    const first = runVerification(db, {}, options({signal: stop.signal}))
    for (let waited = 0; fake.requests.filter((request) => request.path.endsWith('access_scopes.json') && request.status === 200).length === 0 && waited < 400; waited++) await new Promise((resolve) => setTimeout(resolve, 25))
    stop.abort()
    const stopped = await first
    expect(stopped.interrupted).toBe(true)
    fake.answerDelay(0)
    const resumed = await runVerification(db, {}, options())
    expect(resumed).toMatchObject({counts: {valid: 3}, resumed: true})
    expect(resumed.verified).toBe(3 - stopped.verified)
  })
})
