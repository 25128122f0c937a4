// Health check as a deploy gate (issue 6): `synthex health check` (not --deep) against a
// Postgres server holding 100,000 tenants, each with a credential, against the cost of
// starting Node itself. Goal: at most 4x `node -e 0`.
import {Buffer} from 'node:buffer'

import pg from 'pg'

import {BIN, freshDatabase, measure, report, timeOnce} from './lib/measure.mjs'

const TENANTS = Number(process.env.BENCH_HEALTH_TENANTS ?? 100_000)

export default async function health() {
  const url = await freshDatabase('synthex_bench_health')
  const env = {DATABASE_URL: url, SYNTHEX_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString('base64')}
  timeOnce({args: [BIN, 'db', 'migrate'], command: process.execPath, env})
  const client = new pg.Client({connectionString: url})
  await client.connect()
  await client.query(
    `insert into tenants (workspace_id, tenant_id, name, type, shopify_shop, market)
     select (select id from workspaces where slug = 'default'), 'tenant-' || i, 'Tenant ' || i, 'shopify', 'shop-' || i || '.myshopify.com', 'US'
     from generate_series(1, $1) as i`,
    [TENANTS],
  )
  await client.query('vacuum analyze')
  await client.end()
  // One real credential, so the encryption check opens something.
  timeOnce({args: [BIN, 'credentials', 'set', 'tenant-1', '--service', 'shopify', '--from-env', 'TOKEN', '--expires-in', '365d'], command: process.execPath, env: {...env, TOKEN: 'shpat_bench_token'}})
  timeOnce({args: [BIN, 'alerts', 'check-now'], command: process.execPath, env})

  const samples = measure(
    [
      {args: ['-e', '0'], command: process.execPath, name: 'node -e 0'},
      {args: [BIN, 'health', 'check'], command: process.execPath, env, name: 'synthex health check'},
      {args: [BIN, 'health', 'check', '--format', 'prometheus'], command: process.execPath, env, name: 'synthex health check --format prometheus'},
    ],
    {runs: Number(process.env.BENCH_RUNS ?? 20)},
  )
  return report('health', samples, {
    baseline: 'node -e 0',
    goals: {'synthex health check': 4},
    notes: [`Postgres server database with ${TENANTS.toLocaleString('en')} tenants; every check but --deep's.`],
  })
}
