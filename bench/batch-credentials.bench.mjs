// Bulk credentials: `synthex batch credentials set --from-file` of 10,000 rows against what
// 10,000 single `synthex credentials set` runs cost, on the Postgres server (issue 13: loading
// 2,000 tokens one command each took 17 minutes). The single runs are sampled (20 by
// default) and their median extrapolated to the file's size; the ratio is the speed-up.
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {createWriteStream, mkdtempSync} from 'node:fs'
import {once} from 'node:events'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import pg from 'pg'

import {BIN, cleanEnv, freshDatabase, median, report} from './lib/measure.mjs'

const ROWS = Number(process.env.BENCH_CREDENTIALS_ROWS ?? 10_000)
const RUNS = Number(process.env.BENCH_CREDENTIALS_RUNS ?? 3)
const SINGLES = Number(process.env.BENCH_CREDENTIALS_SINGLES ?? 20)

async function writeLines(path, header, count, line) {
  const out = createWriteStream(path, {mode: 0o600})
  out.write(header)
  for (let i = 0; i < count; i++) if (!out.write(line(i))) await once(out, 'drain')
  out.end()
  await once(out, 'finish')
}

/** Wall time of one run, with `input` on its standard input; fails loudly if the command fails. */
function timed(args, env, input) {
  const started = process.hrtime.bigint()
  const result = spawnSync(process.execPath, [BIN, ...args], {env: cleanEnv(env), input, maxBuffer: 64 * 1024 * 1024})
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`synthex ${args.join(' ')} exited ${result.status}: ${result.stderr.toString().slice(-800)}`)
  return ms
}

export default async function batchCredentials() {
  const dir = mkdtempSync(join(tmpdir(), 'synthex-bench-credentials-'))
  const url = await freshDatabase('synthex_bench_credentials')
  const env = {DATABASE_URL: url, SYNTHEX_ENCRYPTION_KEY: `bench:${randomBytes(32).toString('base64')}`}
  timed(['db', 'migrate'], env)
  const id = (i) => `tenant-${String(i).padStart(6, '0')}`
  const tenants = join(dir, 'tenants.csv')
  // One tenant per credential of the file, and more for the single runs.
  await writeLines(tenants, 'tenant_id,name,type,shopify_shop\n', ROWS + SINGLES, (i) => `${id(i)},Tenant ${i},shopify,shop-${i}.myshopify.com\n`)
  timed(['batch', 'tenants', 'create', '--from-csv', tenants], env)
  const tokens = join(dir, 'tokens.csv')
  await writeLines(tokens, 'tenant_id,service,label,value,expires_in\n', ROWS, (i) => `${id(i)},shopify,default,shpat_${randomBytes(16).toString('hex')},90d\n`)

  const client = new pg.Client({connectionString: url})
  await client.connect()
  const batch = []
  for (let round = 0; round < RUNS; round++) {
    await client.query('delete from credentials')
    await client.query('checkpoint')
    batch.push(timed(['batch', 'credentials', 'set', '--from-file', tokens, '--json'], env))
  }

  const count = (await client.query('select count(*)::int as n from credentials')).rows[0].n
  if (count !== ROWS) throw new Error(`batch credentials set stored ${count} of ${ROWS} credentials`)

  const single = []
  for (let i = 0; i < SINGLES; i++) {
    single.push(timed(['credentials', 'set', id(ROWS + i), '--service', 'shopify', '--value-stdin', '--expires-in', '90d'], env, `shpat_${randomBytes(16).toString('hex')}`))
  }

  await client.end()
  const perRow = median(single)
  const batchCase = `batch credentials set ${ROWS} rows`
  const singleCase = `${ROWS} x credentials set (extrapolated from ${SINGLES} runs)`
  const rows = report('batch-credentials', {[batchCase]: batch, [singleCase]: single.map((ms) => ms * ROWS)}, {
    baseline: batchCase,
    notes: [
      `batch: ${Math.round((ROWS * 1000) / median(batch)).toLocaleString('en')} credentials/s; one \`credentials set\` run: ${perRow.toFixed(0)} ms, so ${ROWS.toLocaleString('en')} of them ~${((perRow * ROWS) / 60_000).toFixed(1)} min.`,
      `speed-up of the batch over single runs: ${((perRow * ROWS) / median(batch)).toFixed(0)}x.`,
    ],
  })
  return rows
}
