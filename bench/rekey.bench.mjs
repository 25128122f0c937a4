// Key rotation: `synthex credentials rekey` re-encrypting 100,000 credentials on the Postgres
// server, against the server rewriting the same rows itself (an UPDATE of every row: the
// floor for any rekey). Reports credentials per second (issue 3).
import {randomBytes} from 'node:crypto'

import pg from 'pg'

import {BIN, freshDatabase, median, report, timeOnce} from './lib/measure.mjs'
import {importSource} from './lib/source.mjs'

const COUNT = Number(process.env.BENCH_REKEY_COUNT ?? 100_000)
const RUNS = Number(process.env.BENCH_REKEY_RUNS ?? 3)

export default async function rekey() {
  const {credentialAad} = await importSource('src/services/credentials/credentials.ts')
  const {fingerprint, seal} = await importSource('src/crypto/envelope.ts')
  const {Keyring} = await importSource('src/crypto/keyring.ts')
  const keyA = randomBytes(32)
  const keyB = randomBytes(32)
  const a = new Keyring({id: 'a', key: keyA})

  const url = await freshDatabase('synthex_bench_rekey')
  timeOnce({args: [BIN, 'db', 'migrate'], command: process.execPath, env: {DATABASE_URL: url}})
  const client = new pg.Client({connectionString: url})
  await client.connect()
  const workspace = (await client.query(`select id from workspaces where slug = 'default'`)).rows[0].id
  const {rows: tenants} = await client.query(
    `insert into tenants (workspace_id, tenant_id, name, type, shopify_shop)
     select $1, 'tenant-' || i, 'Tenant ' || i, 'shopify', 'shop-' || i || '.myshopify.com' from generate_series(1, $2) as i
     returning id`,
    [workspace, COUNT],
  )
  for (let offset = 0; offset < tenants.length; offset += 10_000) {
    const slice = tenants.slice(offset, offset + 10_000)
    const sealed = slice.map((tenant, index) => {
      const value = `shpat_${randomBytes(16).toString('hex')}${offset + index}`
      return {fingerprint: fingerprint(a, value), sealed: seal(a, value, credentialAad({label: 'default', service: 'shopify', tenant_id: tenant.id, workspace_id: workspace}))}
    })
    await client.query(
      `insert into credentials (tenant_id, service, label, version, ciphertext, key_id, fingerprint)
       select t, 'shopify', 'default', 1, c, 'a', f from unnest($1::uuid[], $2::text[], $3::text[]) as u(t, c, f)`,
      [slice.map((tenant) => tenant.id), sealed.map((item) => item.sealed.value), sealed.map((item) => item.fingerprint)],
    )
  }

  await client.query('create table credentials_seed as select id, ciphertext, key_id, fingerprint from credentials')
  const reset = async () => {
    await client.query('update credentials set ciphertext = s.ciphertext, key_id = s.key_id, fingerprint = s.fingerprint from credentials_seed s where s.id = credentials.id')
    await client.query('vacuum credentials')
    await client.query('checkpoint')
  }

  const env = {DATABASE_URL: url, SYNTHEX_ENCRYPTION_KEY: `b:${keyB.toString('base64')}`, SYNTHEX_ENCRYPTION_KEYS: `a:${keyA.toString('base64')}`}
  const samples = {'SQL rewrite of every row': [], 'synthex credentials rekey': []}
  for (let round = 0; round < RUNS; round++) {
    await reset()
    samples['SQL rewrite of every row'].push(timeOnce({args: [url, '-qc', `update credentials set ciphertext = ciphertext || '', key_id = key_id, fingerprint = fingerprint`], command: 'psql'}))
    await reset()
    samples['synthex credentials rekey'].push(timeOnce({args: [BIN, 'credentials', 'rekey', '--json'], command: process.execPath, env}))
    const moved = (await client.query(`select count(*)::int as n from credentials where key_id = 'b'`)).rows[0].n
    if (moved !== COUNT) throw new Error(`rekey moved ${moved} of ${COUNT}`)
  }

  await client.end()
  const perSecond = Math.round((COUNT * 1000) / median(samples['synthex credentials rekey']))
  return report('rekey', samples, {
    baseline: 'SQL rewrite of every row',
    notes: [`${COUNT.toLocaleString('en')} credentials: synthex rekey moves ${perSecond.toLocaleString('en')} credentials/s (decrypt, re-encrypt, fingerprint, update, in batches of 1,000 with an audit event each).`],
  })
}
