// Fleet verification: `synthex credentials verify --all` over 10,000 tenants' Shopify tokens
// (issue 16) against the Shopify Admin API stand-in (test/fakes/shopify-admin-fake.ts) answering
// every request in 50 ms, with Shopify's bucket of 40 per shop. The peer is the ideal: a
// verification is two requests one after the other (shop.json, access_scopes.json), so
// --concurrency N can do at most N / 100 ms; each shop here has one token, so its bucket
// never binds. The ratio says how far synthex is from that. Peak RSS at 1,000 and at 10,000
// says whether memory stays flat (nothing held per credential).
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdtempSync} from 'node:fs'
import {createWriteStream} from 'node:fs'
import {once} from 'node:events'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {BIN, cleanEnv, freshDatabase, median, report, timeOnce} from './lib/measure.mjs'
import {importSource} from './lib/source.mjs'

const SIZES = (process.env.BENCH_VERIFY_SIZES ?? '1000,10000').split(',').map(Number)
const RUNS = Number(process.env.BENCH_VERIFY_RUNS ?? 1)
const CONCURRENCY = Number(process.env.BENCH_VERIFY_CONCURRENCY ?? 32)
const ANSWER_MS = 50
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

async function writeLines(path, header, count, line) {
  const out = createWriteStream(path, {mode: 0o600})
  out.write(header)
  for (let i = 0; i < count; i++) if (!out.write(line(i))) await once(out, 'drain')
  out.end()
  await once(out, 'finish')
}

/** The CLI as a child (the fake answers from this process meanwhile): wall ms, peak RSS in MiB, stdout. */
async function runAsync(args, env) {
  const command = GNU_TIME ? [GNU_TIME, ['-f', '%M', process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]]
  const started = process.hrtime.bigint()
  const child = spawn(command[0], command[1], {env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const code = await new Promise((resolve) => child.on('close', resolve))
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (code !== 0) throw new Error(`synthex ${args.join(' ')} exited ${code}: ${stderr.slice(-800)}`)
  const kb = GNU_TIME ? Number(stderr.trim().split('\n').at(-1)) : Number.NaN
  return {mib: kb / 1024, ms, stdout}
}

export default async function verify() {
  const {ShopifyAdminFake} = await importSource('test/fakes/shopify-admin-fake.ts')
  const fake = await new ShopifyAdminFake().listen()
  fake.answerDelay(ANSWER_MS)
  const dir = mkdtempSync(join(tmpdir(), 'synthex-bench-verify-'))
  const url = await freshDatabase('synthex_bench_verify')
  const env = {
    DATABASE_URL: url,
    SHOPIFY_SCOPES: 'read_products',
    SYNTHEX_ALLOW_HTTP: '1',
    SYNTHEX_ALLOW_PRIVATE_NETWORK: '1',
    SYNTHEX_ENCRYPTION_KEY: `bench:${randomBytes(32).toString('base64')}`,
    SYNTHEX_SHOPIFY_API_URL: fake.apiUrl,
  }
  timeOnce({args: [BIN, 'db', 'migrate'], command: process.execPath, env})

  // One workspace per size, seeded in bulk (batch tenants create, batch credentials set).
  for (const size of SIZES) {
    const workspace = `fleet-${size}`
    timeOnce({args: [BIN, 'tenant', 'workspaces', 'create', workspace], command: process.execPath, env})
    const id = (i) => `${workspace}-${String(i).padStart(6, '0')}`
    const shop = (i) => `${id(i)}.myshopify.com`
    const tokens = []
    for (let i = 0; i < size; i++) {
      tokens.push(`shpat_${randomBytes(16).toString('hex')}`)
      fake.shop(shop(i), {scopes: ['read_products'], token: tokens[i]})
    }

    const tenants = join(dir, `tenants-${size}.csv`)
    await writeLines(tenants, 'tenant_id,name,type,shopify_shop\n', size, (i) => `${id(i)},Tenant ${i},shopify,${shop(i)}\n`)
    timeOnce({args: [BIN, 'batch', 'tenants', 'create', '-w', workspace, '--from-csv', tenants], command: process.execPath, env})
    const file = join(dir, `tokens-${size}.csv`)
    await writeLines(file, 'tenant_id,service,value\n', size, (i) => `${id(i)},shopify,${tokens[i]}\n`)
    timeOnce({args: [BIN, 'batch', 'credentials', 'set', '-w', workspace, '--from-file', file], command: process.execPath, env})
  }

  const rows = []
  const peaks = {}
  const throughput = {}
  for (const size of SIZES) {
    const samples = []
    let peak = 0
    for (let round = 0; round < RUNS; round++) {
      fake.reset()
      const run = await runAsync(['credentials', 'verify', '--all', '-w', `fleet-${size}`, '--restart', '--concurrency', String(CONCURRENCY), '--json'], env)
      const result = JSON.parse(run.stdout)
      if (result.counts.valid !== size) throw new Error(`verify --all found ${result.counts.valid} of ${size} valid: ${JSON.stringify(result.counts)}`)
      if (fake.overBucket.length > 0) throw new Error(`${fake.overBucket.length} requests overflowed a shop's bucket`)
      samples.push(run.ms)
      peak = Math.max(peak, run.mib)
    }

    const ideal = (size * 2 * ANSWER_MS) / CONCURRENCY
    peaks[size] = peak
    throughput[size] = (size * 1000) / median(samples)
    rows.push(
      ...report(`verify-${size}`, {[`ideal (${CONCURRENCY} in flight x 2 requests of ${ANSWER_MS} ms)`]: [ideal], [`synthex credentials verify --all, ${size} tenants`]: samples}, {
        baseline: `ideal (${CONCURRENCY} in flight x 2 requests of ${ANSWER_MS} ms)`,
        notes: [
          `${Math.round(throughput[size]).toLocaleString('en')} verifications/s against an ideal of ${Math.round((CONCURRENCY * 1000) / (2 * ANSWER_MS)).toLocaleString('en')}/s (--concurrency ${CONCURRENCY}; one token per shop, so the per-shop bucket of 40 never binds); wall time includes startup and writing the answers.`,
          `peak RSS ${Number.isNaN(peak) ? 'n/a (no /usr/bin/time)' : `${peak.toFixed(0)} MiB`}.`,
        ],
      }),
    )
  }

  await fake.close()
  if (SIZES.length > 1) {
    const [small, large] = [SIZES[0], SIZES.at(-1)]
    console.log(`Peak RSS: ${peaks[small].toFixed(0)} MiB at ${small.toLocaleString('en')} tenants, ${peaks[large].toFixed(0)} MiB at ${large.toLocaleString('en')} (ratio ${(peaks[large] / peaks[small]).toFixed(2)}).`)
  }

  return rows
}
