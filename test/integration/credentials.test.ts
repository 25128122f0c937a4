import {randomBytes} from 'node:crypto'

import {sql} from 'kysely'
import {beforeAll, expect, it} from 'vitest'

import {UnsealError} from '../../src/crypto/crypto-errors.js'
import {Keyring} from '../../src/crypto/keyring.js'
import {
  credentialStatus,
  expiringCredentials,
  getCredential,
  listCredentials,
  rekeyCredentials,
  revokeCredential,
  rotateCredential,
  setCredential,
} from '../../src/services/credentials/credentials.js'
import {ConflictError, InvalidInputError, NotFoundError} from '../../src/errors/input-errors.js'
import {createTenant} from '../../src/services/tenants/tenants.js'
import {createWorkspace, findWorkspace, type Workspace} from '../../src/services/workspaces/workspaces.js'
import {describeEachBackend, ownDatabase} from '../helpers/backends.js'
import type {Db} from '../../src/db/schema.js'

const audit = {actor: 'alice', source: 'cli'}
const DAY = 86_400_000
const keyA = {id: 'a', key: randomBytes(32)}
const keyB = {id: 'b', key: randomBytes(32)}
const keyC = {id: 'c', key: randomBytes(32)}

describeEachBackend('credentials', (database, backend) => {
  let workspace: Workspace
  const keyring = new Keyring(keyA)

  beforeAll(async () => {
    workspace = await findWorkspace(database().db, 'default')
    for (const id of ['c1', 'c2', 'c3', 'c4']) {
      await createTenant(database().db, workspace, audit, {name: id, shopify_shop: `${id}.myshopify.com`, tenant_id: id, type: 'shopify'})
    }
  })

  it('stores a credential sealed, reveals it only on request, and audits the reveal', async () => {
    const {db} = database()
    const stored = await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'c1'}, {expiresAt: new Date(Date.now() + 90 * DAY + 3_600_000), value: 'shpat_c1'})
    expect(stored).toMatchObject({keyId: 'a', label: 'default', service: 'shopify', status: 'ok', tenantId: 'c1', version: 1})
    expect(stored.daysLeft).toBe(90)

    const row = await db.selectFrom('credentials').selectAll().executeTakeFirstOrThrow()
    expect(row.ciphertext).toMatch(/^v1:a:/)
    expect(row.ciphertext).not.toContain('shpat_c1')

    const plain = await getCredential(db, workspace, {service: 'shopify', tenantId: 'c1'})
    expect(plain.value).toBeUndefined()
    const revealed = await getCredential(db, workspace, {service: 'shopify', tenantId: 'c1'}, {audit, keyring, reveal: true})
    expect(revealed.value).toBe('shpat_c1')
    const events = await db.selectFrom('events').select(['type', 'data']).where('aggregate_id', '=', 'c1').where('type', 'like', 'credential.%').execute()
    expect(events.map((event) => event.type)).toEqual(['credential.set', 'credential.revealed'])
    expect(JSON.stringify(events)).not.toContain('shpat_c1')
  })

  it('refuses a second set, rotates to a new version keeping the old, and revokes', async () => {
    const {db} = database()
    const ref = {service: 'gmc' as const, tenantId: 'c2'}
    await setCredential(db, keyring, workspace, audit, ref, {value: 'refresh-1'})
    await expect(setCredential(db, keyring, workspace, audit, ref, {value: 'refresh-x'})).rejects.toThrow(ConflictError)
    const {current, previous} = await rotateCredential(db, keyring, workspace, audit, ref, {value: 'refresh-2'})
    expect([previous.version, previous.status, current.version, current.status]).toEqual([1, 'rotated', 2, 'ok'])
    expect(current.fingerprint).not.toBe(previous.fingerprint)
    expect((await getCredential(db, workspace, ref, {audit, keyring, reveal: true})).value).toBe('refresh-2')

    const all = await listCredentials(db, workspace, {all: true, limit: 10, tenantId: 'c2'})
    expect(all.credentials.map((credential) => [credential.version, credential.status])).toEqual([[1, 'rotated'], [2, 'ok']])
    const revoked = await revokeCredential(db, workspace, audit, ref)
    expect(revoked.status).toBe('revoked')
    await expect(getCredential(db, workspace, ref)).rejects.toThrow(NotFoundError)
    await setCredential(db, keyring, workspace, audit, ref, {value: 'refresh-3'})
    expect((await getCredential(db, workspace, ref)).credential.version).toBe(3)
  })

  it('keeps labels apart and refuses bad input', async () => {
    const {db} = database()
    await setCredential(db, keyring, workspace, audit, {label: 'storefront', service: 'shopify', tenantId: 'c3'}, {value: 'a'})
    await setCredential(db, keyring, workspace, audit, {label: 'admin', service: 'shopify', tenantId: 'c3'}, {value: 'b'})
    expect((await listCredentials(db, workspace, {limit: 10, tenantId: 'c3'})).credentials.map((credential) => credential.label)).toEqual(['admin', 'storefront'])
    await expect(setCredential(db, keyring, workspace, audit, {label: 'no spaces', service: 'shopify', tenantId: 'c3'}, {value: 'a'})).rejects.toThrow(InvalidInputError)
    await expect(setCredential(db, keyring, workspace, audit, {service: 'google', tenantId: 'c3'}, {expiresAt: new Date(Date.now() - DAY), value: 'a'})).rejects.toThrow(/in the past/)
    await expect(setCredential(db, keyring, workspace, audit, {service: 'google', tenantId: 'nobody'}, {value: 'a'})).rejects.toThrow(NotFoundError)
  })

  it('reports expiry fleet-wide, soonest first, across workspaces', async () => {
    const {db} = database()
    const other = await createWorkspace(db, audit, {slug: `cred-${Date.now()}`})
    await createTenant(db, other, audit, {name: 'o', shopify_shop: 'o.myshopify.com', tenant_id: 'o1', type: 'shopify'})
    const now = new Date()
    await setCredential(db, keyring, other, audit, {service: 'shopify', tenantId: 'o1'}, {expiresAt: new Date(now.getTime() + 3 * DAY), value: 'x'})
    await setCredential(db, keyring, workspace, audit, {service: 'google', tenantId: 'c4'}, {expiresAt: new Date(now.getTime() + 10 * DAY), value: 'y'})
    await setCredential(db, keyring, workspace, audit, {service: 'shopify', tenantId: 'c4'}, {expiresAt: new Date(now.getTime() + 200 * DAY), value: 'z'})

    const {credentials: soon} = await expiringCredentials(db, {limit: 100, withinMs: 30 * DAY})
    expect(soon.map((credential) => [credential.workspace === other.slug ? 'other' : credential.workspace, credential.tenantId, credential.status])).toEqual([
      ['other', 'o1', 'expiring'],
      ['default', 'c4', 'expiring'],
    ])
    expect((await expiringCredentials(db, {limit: 100, withinMs: 30 * DAY, workspace: other})).credentials).toHaveLength(1)
    expect(await expiringCredentials(db, {limit: 1, withinMs: 30 * DAY})).toMatchObject({truncated: true})
    const later = new Date(now.getTime() + 5 * DAY)
    expect((await expiringCredentials(db, {limit: 100, now: later, withinMs: 0})).credentials.map((credential) => [credential.tenantId, credential.status, credential.daysLeft])).toEqual([['o1', 'expired', -2]])
    expect((await listCredentials(db, workspace, {expiringWithinMs: 30 * DAY, limit: 100})).credentials.map((credential) => credential.tenantId)).toEqual(['c4'])
  })

  it('computes status from expiry, rotation and revocation', () => {
    const now = new Date('2026-06-01T00:00:00Z')
    const at = (days: number) => new Date(now.getTime() + days * DAY)
    expect(credentialStatus({expires_at: null, revoked_at: null, rotated_at: null}, now)).toBe('ok')
    expect(credentialStatus({expires_at: at(31), revoked_at: null, rotated_at: null}, now)).toBe('ok')
    expect(credentialStatus({expires_at: at(30), revoked_at: null, rotated_at: null}, now)).toBe('expiring')
    expect(credentialStatus({expires_at: at(-1), revoked_at: null, rotated_at: null}, now)).toBe('expired')
    expect(credentialStatus({expires_at: at(-1), revoked_at: now, rotated_at: null}, now)).toBe('revoked')
  })

  it('refuses a ciphertext copied onto another row, naming the credential', async () => {
    const {db} = database()
    for (const id of ['copy-from', 'copy-to']) {
      await createTenant(db, workspace, audit, {name: id, shopify_shop: `${id}.myshopify.com`, tenant_id: id, type: 'shopify'})
      await setCredential(db, keyring, workspace, audit, {service: 'google', tenantId: id}, {value: `secret-of-${id}`})
    }

    const source = await db.selectFrom('credentials').innerJoin('tenants', 'tenants.id', 'credentials.tenant_id').select(['credentials.ciphertext']).where('tenants.tenant_id', '=', 'copy-from').executeTakeFirstOrThrow()
    await sql`update credentials set ciphertext = ${source.ciphertext} from tenants where tenants.id = credentials.tenant_id and tenants.tenant_id = 'copy-to' and credentials.service = 'google'`.execute(db)
    const error = await getCredential(db, workspace, {service: 'google', tenantId: 'copy-to'}, {audit, keyring, reveal: true}).catch((error_: unknown) => error_)
    expect(error).toBeInstanceOf(UnsealError)
    expect((error as Error).message).toBe('Cannot decrypt the credential of tenant copy-to, service google: authentication failed: the stored value was altered, or belongs to another credential.')
  })

  /** A database of the test's own (a rekey moves every credential in it) with `count` credentials sealed under `under`. */
  const sealedFleet = async (count: number, under: Keyring): Promise<{db: Db; url: string | undefined}> => {
    const own = await ownDatabase(backend)
    const home = await findWorkspace(own.db, 'default')
    for (let index = 0; index < count; index++) {
      const tenantId = `rk-${index}`
      await createTenant(own.db, home, audit, {name: tenantId, shopify_shop: `${tenantId}.myshopify.com`, tenant_id: tenantId, type: 'shopify'})
      await setCredential(own.db, under, home, audit, {service: 'shopify', tenantId}, {value: `secret-${index}`})
    }

    return {db: own.db, url: own.url}
  }

  /** Copies rk-0's sealed value onto rk-1: a value that no key can open there. */
  const tamperRk1 = async (db: Db): Promise<void> => {
    await sql`update credentials set ciphertext = (select c.ciphertext from credentials c join tenants t on t.id = c.tenant_id where t.tenant_id = 'rk-0')
              from tenants where tenants.id = credentials.tenant_id and tenants.tenant_id = 'rk-1'`.execute(db)
  }

  it('moves every credential to a new key, resumes after an interruption, and needs the old key no more', async () => {
    const {db} = await sealedFleet(30, keyring)
    const home = await findWorkspace(db, 'default')
    const underA = Number((await db.selectFrom('credentials').select((eb) => eb.fn.countAll<number>().as('n')).where('key_id', '=', 'a').executeTakeFirstOrThrow()).n)
    const both = new Keyring(keyB, [keyA])
    expect((await rekeyCredentials(db, both, audit, {dryRun: true})).remaining).toBe(underA)

    // Crash after the second batch: the batches committed so far stay moved.
    let batches = 0
    await expect(
      rekeyCredentials(db, both, audit, {
        batchSize: 5,
        onProgress: () => {
          if (++batches === 2) throw new Error('killed')
        },
      }),
    ).rejects.toThrow('killed')
    const halfway = await db.selectFrom('credentials').select(['key_id', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('key_id').orderBy('key_id').execute()
    expect(halfway.map((row) => [row.key_id, Number(row.n)])).toEqual([['a', underA - 10], ['b', 10]])

    const finished = await rekeyCredentials(db, both, audit, {batchSize: 7})
    expect(finished).toMatchObject({failed: [], fromKeys: {a: underA - 10}, moved: underA - 10, remaining: 0})
    expect(await rekeyCredentials(db, both, audit)).toMatchObject({moved: 0, remaining: 0})

    const onlyB = new Keyring(keyB)
    for (let index = 0; index < 30; index++) {
      const {value} = await getCredential(db, home, {service: 'shopify', tenantId: `rk-${index}`}, {audit, keyring: onlyB, reveal: true})
      expect(value).toBe(`secret-${index}`)
    }

    const rekeyed = await db.selectFrom('events').select('data').where('type', '=', 'credentials.rekeyed').execute()
    expect(rekeyed.reduce((sum, event) => sum + Number(event.data.moved), 0)).toBe(underA)
  })

  it('reports, and leaves alone, what it cannot open while moving the rest', async () => {
    const {db} = await sealedFleet(10, new Keyring(keyB))
    await tamperRk1(db)
    const onlyC = new Keyring(keyC, [keyB])
    const result = await rekeyCredentials(db, onlyC, audit, {batchSize: 4})
    expect(result.failed.map((failure) => [failure.tenantId, failure.service])).toEqual([['rk-1', 'shopify']])
    expect(result.failed[0]?.reason).toContain('authentication failed')
    expect([result.moved, result.remaining]).toEqual([9, 1])
  })

  // Concurrent transactions need two sessions: a server database.
  if (backend === 'postgres') {
    it('counts what a rekey could not reach, such as a row locked by a concurrent change', async () => {
      const {db, url} = await sealedFleet(5, new Keyring(keyC))
      await tamperRk1(db)
      const {default: pg} = await import('pg')
      const other = new pg.Client({connectionString: url})
      await other.connect()
      const toD = new Keyring({id: 'd', key: randomBytes(32)}, [keyC, keyB])
      try {
        await other.query('begin')
        await other.query(`select c.id from credentials c join tenants t on t.id = c.tenant_id where t.tenant_id = 'rk-2' for update of c`)
        const first = await rekeyCredentials(db, toD, audit)
        // Not moved: rk-1 (tampered, reported as failed) and rk-2 (locked, skipped, still counted).
        expect(first.failed.map((failure) => failure.tenantId)).toEqual(['rk-1'])
        expect(first.remaining).toBe(2)
      } finally {
        await other.query('rollback')
        await other.end()
      }

      const second = await rekeyCredentials(db, toD, audit)
      expect([second.moved, second.remaining]).toEqual([1, 1])
    })
  }
})
