// Startup: how long a user waits for synthex before it does anything, against the cost of
// starting Node itself (clean environment, see cleanEnv in lib/measure.mjs). Goals (issue
// 14): `--version` and `--help` at most 2.5x `node -e 0`; listing a page of 100 tenants as
// JSON from a Postgres server holding 10,000 of them at most 4x. Listing all 10,000 is
// measured too, for information: its cost is the rows, not startup.
import pg from 'pg'

import {BIN, freshDatabase, measure, report, timeOnce} from './lib/measure.mjs'

const TENANTS = 10_000

export default async function startup() {
  const url = await freshDatabase('synthex_bench_startup')
  timeOnce({args: [BIN, 'db', 'migrate'], command: process.execPath, env: {DATABASE_URL: url}})
  const client = new pg.Client({connectionString: url})
  await client.connect()
  await client.query(
    `insert into tenants (workspace_id, tenant_id, name, type, shopify_shop, market)
     select (select id from workspaces where slug = 'default'), 'tenant-' || lpad(i::text, 5, '0'), 'Tenant ' || i,
            'shopify', 'shop-' || i || '.myshopify.com', 'US'
     from generate_series(1, $1) as i`,
    [TENANTS],
  )
  await client.end()

  const env = {DATABASE_URL: url}
  const samples = measure(
    [
      {args: ['-e', '0'], command: process.execPath, name: 'node -e 0'},
      {args: [BIN, '--version'], command: process.execPath, name: 'synthex --version'},
      {args: [BIN, '--help'], command: process.execPath, name: 'synthex --help'},
      {args: [BIN, 'tenant', 'tenants', 'list', '--json'], command: process.execPath, env, name: 'synthex tenant tenants list --json'},
      {args: [BIN, 'tenant', 'tenants', 'list', '--json', '--limit', '10000'], command: process.execPath, env, name: 'synthex tenant tenants list --json --limit 10000'},
    ],
    {runs: Number(process.env.BENCH_RUNS ?? 20)},
  )
  return report('startup', samples, {
    baseline: 'node -e 0',
    goals: {'synthex --help': 2.5, 'synthex --version': 2.5, 'synthex tenant tenants list --json': 4},
    notes: [`Postgres server database with ${TENANTS.toLocaleString('en')} tenants; list returns its default page of 100, --limit 10000 returns them all.`],
  })
}
