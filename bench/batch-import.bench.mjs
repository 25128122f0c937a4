// Bulk import: `synthex batch tenants create --from-csv` against `psql \copy` of the same
// file into an equivalent table (same columns, constraints, indexes and foreign key), on
// the Postgres server. Goals (issue 14, part 4): wall time at most 1.5x \copy at 100,000
// and at 1,000,000 rows; synthex's peak memory under 200 MiB at 1,000,000 rows.
// For information, the same import on the embedded database (a fresh home each run, of the
// first size; BENCH_IMPORT_EMBEDDED=0 leaves it out): it has no peer, so compare it with
// the figure in bench/results of an earlier run.
import {spawnSync} from 'node:child_process'
import {cpSync, createWriteStream, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {once} from 'node:events'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import pg from 'pg'

import {BIN, cleanEnv, freshDatabase, median, report} from './lib/measure.mjs'

const SIZES = (process.env.BENCH_IMPORT_SIZES ?? '100000,1000000').split(',').map(Number)
const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 3)
const COLUMNS = 'tenant_id,name,type,shopify_shop,gmc_merchant_id,market,region,status'
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

async function writeCsv(path, rows) {
  const out = createWriteStream(path)
  out.write(`${COLUMNS}\n`)
  const types = ['shopify', 'google_merchant', 'mixed']
  const markets = ['US', 'DE', 'GB', 'FR', 'NL']
  for (let i = 0; i < rows; i++) {
    const type = types[i % 3]
    const shop = type === 'google_merchant' ? '' : `shop-${i}.myshopify.com`
    const merchant = type === 'shopify' ? '' : String(100_000 + i)
    const name = i % 10 === 0 ? `"Tenant ${i}, Inc."` : `Tenant ${i}`
    if (!out.write(`tenant-${String(i).padStart(7, '0')},${name},${type},${shop},${merchant},${markets[i % 5]},emea,active\n`)) await once(out, 'drain')
  }

  out.end()
  await once(out, 'finish')
}

/** Runs a command under GNU time for its peak memory; returns wall ms and max RSS in MiB. */
function run(command, args, env = {}) {
  const wrapped = GNU_TIME ? [GNU_TIME, ['-f', '%M', command, ...args]] : [command, args]
  const started = process.hrtime.bigint()
  const result = spawnSync(wrapped[0], wrapped[1], {env: cleanEnv(env), maxBuffer: 64 * 1024 * 1024})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.toString().slice(-800)}`)
  const kb = GNU_TIME ? Number(result.stderr.toString().trim().split('\n').at(-1)) : Number.NaN
  return {mib: kb / 1024, ms}
}

export default async function batchImport() {
  const dir = mkdtempSync(join(tmpdir(), 'synthex-bench-import-'))
  const url = await freshDatabase('synthex_bench_import')
  run(process.execPath, [BIN, 'db', 'migrate'], {DATABASE_URL: url})
  const client = new pg.Client({connectionString: url})
  await client.connect()
  const workspace = (await client.query(`select id from workspaces where slug = 'default'`)).rows[0].id
  await client.query(`create table tenants_copy (like tenants including all)`)
  await client.query(`alter table tenants_copy add foreign key (workspace_id) references workspaces (id)`)
  await client.query(`alter table tenants_copy alter column workspace_id set default '${workspace}'`)

  const rows = []
  for (const size of SIZES) {
    const file = join(dir, `tenants-${size}.csv`)
    await writeCsv(file, size)
    const samples = {copy: [], synthex: []}
    let peak = 0
    for (let round = 0; round < RUNS; round++) {
      await client.query('truncate tenants_copy')
      await client.query('checkpoint')
      samples.copy.push(run('psql', [url, '-qc', `\\copy tenants_copy (${COLUMNS}) from '${file}' with (format csv, header true)`]).ms)

      await client.query('truncate tenants, events cascade')
      await client.query('checkpoint')
      const synthex = run(process.execPath, [BIN, 'batch', 'tenants', 'create', '--from-csv', file, '--json'], {DATABASE_URL: url})
      samples.synthex.push(synthex.ms)
      peak = Math.max(peak, synthex.mib)
    }

    const count = (await client.query('select count(*)::int as n from tenants')).rows[0].n
    if (count !== size) throw new Error(`synthex imported ${count} of ${size} rows`)
    rows.push(
      ...report(`batch-import-${size}`, {[`psql \\copy ${size} rows`]: samples.copy, [`synthex batch ${size} rows`]: samples.synthex}, {
        baseline: `psql \\copy ${size} rows`,
        goals: {[`synthex batch ${size} rows`]: 1.5},
        notes: [
          `synthex: ${Math.round((size * 1000) / median(samples.synthex)).toLocaleString('en')} rows/s; peak memory ${Number.isNaN(peak) ? 'n/a (no /usr/bin/time)' : `${peak.toFixed(0)} MiB`}${size >= 1_000_000 ? ' (goal: under 200 MiB)' : ''}.`,
        ],
      }),
    )
    if (size >= 1_000_000 && peak >= 200) rows.push({verdict: 'MISSED'})
  }

  await client.end()
  if (process.env.BENCH_IMPORT_EMBEDDED !== '0') rows.push(...embedded(dir, SIZES[0]))
  return rows
}

/** The import of the first size on a fresh embedded home (a copy of one where the database was created). */
function embedded(dir, size) {
  const file = join(dir, `tenants-${size}.csv`)
  const template = join(dir, 'home-template')
  run(process.execPath, [BIN, 'tenant', 'workspaces', 'list', '--json'], {SYNTHEX_HOME: template})
  const samples = []
  let peak = 0
  for (let round = 0; round < RUNS; round++) {
    const home = join(dir, `home-${round}`)
    cpSync(template, home, {recursive: true})
    const synthex = run(process.execPath, [BIN, 'batch', 'tenants', 'create', '--from-csv', file, '--json'], {SYNTHEX_HOME: home})
    samples.push(synthex.ms)
    peak = Math.max(peak, synthex.mib)
    rmSync(home, {force: true, recursive: true})
  }

  return report(`batch-import-embedded-${size}`, {[`synthex batch ${size} rows, embedded`]: samples}, {
    notes: [`embedded: ${Math.round((size * 1000) / median(samples)).toLocaleString('en')} rows/s; peak memory ${Number.isNaN(peak) ? 'n/a (no /usr/bin/time)' : `${peak.toFixed(0)} MiB`}. No peer: compare with bench/results/batch-import-embedded-${size}.json of an earlier run.`],
  })
}
