import {randomBytes, randomUUID} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {sql} from 'kysely'
import {expect, inject, it} from 'vitest'

import {Keyring} from '../../src/crypto/keyring.js'
import {credentialAad} from '../../src/services/credentials/credentials.js'
import {fingerprint, seal} from '../../src/crypto/envelope.js'
import {type CliResult, parseJson, runCli, startCli, startOnTerminal} from '../helpers/cli.js'
import {describeEachCliBackend} from '../helpers/cli-backends.js'
import {columnsContaining, withDatabase} from '../helpers/inspect-database.js'
import {waitFor} from '../helpers/wait.js'

const keyA = randomBytes(32).toString('base64')
const keyB = randomBytes(32).toString('base64')

describeEachCliBackend('credentials', (target) => {
  const run = (args: string[], options: {env?: Record<string, string | undefined>; input?: string} = {}) =>
    runCli(args, {env: {...target().env, SYNTHEX_ENCRYPTION_KEY: `a:${keyA}`, ...options.env}, input: options.input})

  it('never lets a secret out: not in output, errors, events or any column, except the one --reveal', async () => {
    const canary = `canary-${randomUUID()}`
    const canary2 = `canary2-${randomUUID()}`
    const secretFile = join(inject('scratch'), `secret-${randomUUID()}`)
    writeFileSync(secretFile, `${canary2}\n`)
    const transcript: CliResult[] = []
    const record = async (result: Promise<CliResult>, code?: number): Promise<CliResult> => {
      const done = await result
      transcript.push(done)
      if (code !== undefined) expect(done.code, done.stderr).toBe(code)
      return done
    }

    await record(run(['tenant', 'tenants', 'create', '--tenant-id', 'canary-shop', '--name', 'Canary', '--type', 'shopify', '--shopify-shop', 'canary.myshopify.com']), 0)
    await record(run(['credentials', 'set', 'canary-shop', '--service', 'shopify', '--value-stdin', '--expires-in', '20d'], {input: `${canary}\n`}), 0)
    await record(run(['credentials', 'set', 'canary-shop', '--service', 'shopify', '--value-stdin', '--json'], {input: canary}), 1)
    for (const args of [
      ['credentials', 'list'],
      ['credentials', 'list', '--json', '--all'],
      ['credentials', 'list', '--csv'],
      ['credentials', 'get', 'canary-shop', '--service', 'shopify'],
      ['credentials', 'get', 'canary-shop', '--service', 'shopify', '--json'],
      ['credentials', 'expiring'],
      ['credentials', 'expiring', '--json'],
      ['tenant', 'tenants', 'history', 'canary-shop', '--json'],
    ]) {
      await record(run(args), 0)
    }

    // The one output allowed to hold the secret.
    const revealed = await run(['credentials', 'get', 'canary-shop', '--service', 'shopify', '--reveal'])
    expect(revealed.code).toBe(0)
    expect(revealed.stdout).toBe(`${canary}\n`)
    expect(revealed.stderr).not.toContain(canary)

    await record(run(['credentials', 'rotate', 'canary-shop', '--service', 'shopify', '--from-file', secretFile, '--expires-in', '90d', '--json']), 0)

    // Error paths: a wrong key, a value from a source that is missing, a database that is not there.
    const wrongKey = await record(run(['credentials', 'get', 'canary-shop', '--service', 'shopify', '--reveal'], {env: {SYNTHEX_ENCRYPTION_KEY: `b:${keyB}`}}), 1)
    expect(wrongKey.stderr).toContain('Cannot decrypt the credential of tenant canary-shop, service shopify: it was encrypted with key a, which is not configured.')
    await record(run(['credentials', 'get', 'canary-shop', '--service', 'shopify', '--reveal', '--json'], {env: {SYNTHEX_ENCRYPTION_KEY: `b:${keyB}`}}), 1)
    await record(run(['credentials', 'rotate', 'canary-shop', '--service', 'shopify', '--from-env', 'NOT_SET_ANYWHERE']), 2)
    const noDatabase = {DATABASE_URL: 'postgres://synthex@127.0.0.1:1/none', SYNTHEX_HOME: undefined}
    await record(run(['credentials', 'rotate', 'canary-shop', '--service', 'shopify', '--value-stdin', '--json'], {env: noDatabase, input: canary}), 1)
    await record(run(['credentials', 'set', 'canary-shop', '--service', 'gmc', '--value-stdin'], {env: noDatabase, input: canary}), 1)

    // Rekey to key B, keeping A to decrypt: both versions move.
    const rekeyed = await record(run(['credentials', 'rekey', '--json'], {env: {SYNTHEX_ENCRYPTION_KEY: `b:${keyB}`, SYNTHEX_ENCRYPTION_KEYS: `a:${keyA}`}}), 0)
    expect(parseJson<{moved: number}>(rekeyed).moved).toBe(2)

    // Tampering: a flipped byte, then a wrong key id, each reported naming the credential.
    const original = await withDatabase(target(), async (db) => {
      const row = await db.selectFrom('credentials').select(['id', 'ciphertext']).where('rotated_at', 'is', null).executeTakeFirstOrThrow()
      const [version, keyId, packed] = row.ciphertext.split(':') as [string, string, string]
      const bytes = Buffer.from(packed, 'base64url')
      bytes[15] = (bytes[15] as number) ^ 0xff
      await sql`update credentials set ciphertext = ${`${version}:${keyId}:${bytes.toString('base64url')}`} where id = ${row.id}`.execute(db)
      return row
    })
    const bKeys = {SYNTHEX_ENCRYPTION_KEY: `b:${keyB}`}
    const tampered = await record(run(['credentials', 'get', 'canary-shop', '--service', 'shopify', '--reveal'], {env: bKeys}), 1)
    expect(tampered.stderr).toContain('Cannot decrypt the credential of tenant canary-shop, service shopify: authentication failed')
    expect(tampered.stderr).not.toMatch(/\n\s+at /)
    await withDatabase(target(), (db) => sql`update credentials set ciphertext = ${original.ciphertext.replace(':b:', ':nokey:')} where id = ${original.id}`.execute(db))
    const unknownKey = await record(run(['credentials', 'get', 'canary-shop', '--service', 'shopify', '--reveal', '--json'], {env: bKeys}), 1)
    expect(parseJson<{error: {code: string; message: string}}>(unknownKey).error).toMatchObject({code: 'CREDENTIAL_UNREADABLE'})
    expect(parseJson<{error: {message: string}}>(unknownKey).error.message).toContain('tenant canary-shop, service shopify')

    // A ciphertext copied onto another tenant's row does not open there.
    await record(run(['tenant', 'tenants', 'create', '--tenant-id', 'copy-target', '--name', 'Copy', '--type', 'shopify', '--shopify-shop', 'copy.myshopify.com']), 0)
    await record(run(['credentials', 'set', 'copy-target', '--service', 'shopify', '--from-env', 'COPY_SECRET'], {env: {...bKeys, COPY_SECRET: 'unrelated'}}), 0)
    await withDatabase(target(), (db) =>
      sql`update credentials set ciphertext = (select c.ciphertext from credentials c join tenants t on t.id = c.tenant_id where t.tenant_id = 'canary-shop' and c.version = 1)
          from tenants where tenants.id = credentials.tenant_id and tenants.tenant_id = 'copy-target'`.execute(db),
    )
    const copied = await record(run(['credentials', 'get', 'copy-target', '--service', 'shopify', '--reveal'], {env: {...bKeys, SYNTHEX_ENCRYPTION_KEYS: `a:${keyA}`}}), 1)
    expect(copied.stderr).toContain('Cannot decrypt the credential of tenant copy-target, service shopify: authentication failed')

    for (const result of transcript) {
      for (const secret of [canary, canary2]) {
        expect(result.stdout, 'stdout').not.toContain(secret)
        expect(result.stderr, 'stderr').not.toContain(secret)
      }
    }

    for (const secret of [canary, canary2]) {
      expect(await withDatabase(target(), (db) => columnsContaining(db, secret))).toEqual([])
    }
  })

  it('never echoes a secret typed where a name or nothing belongs', async () => {
    const leaked = `shpat_${randomUUID()}`
    for (const args of [
      ['credentials', 'set', 'canary-shop', '--service', 'gmc', '--from-env', leaked],
      ['credentials', 'set', 'canary-shop', leaked, '--service', 'gmc', '--value-stdin'],
      ['credentials', 'rotate', 'canary-shop', '--service', 'shopify', '--from-file', leaked, '--json'],
      ['credentials', 'set', 'canary-shop', '--service', 'gmc', `--${leaked}`],
    ]) {
      const result = await run(args, {input: ''})
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stdout + result.stderr, args.join(' ')).not.toContain(leaked)
    }
  })

  it('asks for the secret without echoing it when run at a terminal with no source', async () => {
    await run(['tenant', 'tenants', 'create', '--tenant-id', 'prompted', '--name', 'Prompted', '--type', 'shopify', '--shopify-shop', 'prompted.myshopify.com'])
    const secret = `typed-${randomUUID()}`
    const session = startOnTerminal(['credentials', 'set', 'prompted', '--service', 'shopify'], {...target().env, SYNTHEX_ENCRYPTION_KEY: `a:${keyA}`})
    await waitFor(() => (session.output().includes('Secret for tenant prompted, service shopify:') ? true : undefined), 30_000, 'the prompt')
    session.child.stdin.write(`${secret}\r`)
    expect(await session.done).toBe(0)
    expect(session.output()).not.toContain(secret)
    const revealed = await run(['credentials', 'get', 'prompted', '--service', 'shopify', '--reveal'])
    expect(revealed.stdout).toBe(`${secret}\n`)
  })

  it('rotates the master key end to end: a rekey killed midway finishes when run again, and the old key can go', async () => {
    const count = 5000
    const a = new Keyring({id: 'a', key: Buffer.from(keyA, 'base64')})
    await withDatabase(target(), async (db) => {
      const workspace = await db.selectFrom('workspaces').select('id').where('slug', '=', 'default').executeTakeFirstOrThrow()
      const tenants = await db
        .insertInto('tenants')
        .values(Array.from({length: count}, (_, index) => ({metadata: '{}', name: `Rekey ${index}`, shopify_shop: `rk-${index}.myshopify.com`, tenant_id: `rk-${index}`, type: 'shopify' as const, workspace_id: workspace.id})))
        .returning(['id', 'tenant_id'])
        .execute()
      const rows = tenants.map((tenant) => {
        const aad = credentialAad({label: 'default', service: 'shopify', tenant_id: tenant.id, workspace_id: workspace.id})
        const value = `secret-of-${tenant.tenant_id}`
        const sealed = seal(a, value, aad)
        return {ciphertext: sealed.value, fingerprint: fingerprint(a, value), key_id: sealed.keyId, label: 'default', service: 'shopify' as const, tenant_id: tenant.id, version: 1}
      })
      for (let offset = 0; offset < rows.length; offset += 500) await db.insertInto('credentials').values(rows.slice(offset, offset + 500)).execute()
    })

    const rotation = {SYNTHEX_ENCRYPTION_KEY: `b:${keyB}`, SYNTHEX_ENCRYPTION_KEYS: `a:${keyA}`}
    const underB = () => withDatabase(target(), async (db) => Number((await db.selectFrom('credentials').select((eb) => eb.fn.countAll<number>().as('n')).where('key_id', '=', 'b').executeTakeFirstOrThrow()).n))
    const before = await underB()
    let killedMidway = false
    // Random moments, later at each attempt: the first ones may land before the process has
    // opened the database (which moves nothing, and is fine too).
    for (let attempt = 0; attempt < 6 && !killedMidway; attempt++) {
      // Tiny batches make the job long (about 1,700 transactions) and the kill land mid-job.
      const started = startCli(['credentials', 'rekey', '--batch-size', '3'], {env: {...target().env, ...rotation}})
      await new Promise((resolve) => setTimeout(resolve, 400 + attempt * 350 + Math.floor(Math.random() * 300)))
      started.child.kill('SIGKILL')
      const ended = await started.done
      const moved = (await underB()) - before
      expect(moved % 3, `${moved} moved before the kill: whole batches only`).toBe(0)
      killedMidway = ended.signal === 'SIGKILL' && moved > 0 && moved < count
    }

    expect(killedMidway).toBe(true)
    const finished = await run(['credentials', 'rekey', '--json'], {env: rotation})
    expect(finished.code).toBe(0)
    expect(parseJson<{failed: unknown[]; remaining: number}>(finished)).toMatchObject({failed: [], remaining: 0})

    // Key A is gone: every credential still opens, and there is nothing left to move.
    const onlyB = {SYNTHEX_ENCRYPTION_KEY: `b:${keyB}`, SYNTHEX_ENCRYPTION_KEYS: undefined}
    expect(parseJson<{remaining: number}>(await run(['credentials', 'rekey', '--dry-run', '--json'], {env: onlyB})).remaining).toBe(0)
    for (const index of [0, 1, Math.floor(count / 2), count - 1]) {
      const revealed = await run(['credentials', 'get', `rk-${index}`, '--service', 'shopify', '--reveal'], {env: onlyB})
      expect(revealed.stdout).toBe(`secret-of-rk-${index}\n`)
    }

    const versions = await withDatabase(target(), (db) =>
      db.selectFrom('credentials').innerJoin('tenants', 'tenants.id', 'credentials.tenant_id').select(['key_id', 'ciphertext']).where('tenants.tenant_id', 'like', 'rk-%').execute(),
    )
    expect(versions).toHaveLength(count)
    expect(versions.filter((row) => row.key_id !== 'b' || !row.ciphertext.startsWith('v1:b:'))).toEqual([])
  })
})
