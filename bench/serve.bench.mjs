// `synthex serve` on a Postgres server database (issue 15):
// - an authenticated `GET /api/tenants/{tenantId}` (a random one of 10,000 tenants per
//   request) at 32 connections, measured with autocannon in the same run as a minimal
//   node:http + pg server doing the same single-row query (bench/lib/minimal-tenant-server.mjs),
//   in rounds of 5 s taken in alternating order so that machine noise hits both alike.
//   Goals: at least 0.5x the minimal server's requests a second, and a p99 under 50 ms;
// - 1,000 Shopify webhooks, 50 in flight at once, a tenth of them a second delivery of a
//   webhook id: every one answered 2xx within Shopify's 5 s, and none applied twice.
import {Buffer} from 'node:buffer'
import {spawn, spawnSync} from 'node:child_process'
import {createHmac, randomBytes} from 'node:crypto'
import {once} from 'node:events'
import {closeSync, mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'

import autocannon from 'autocannon'
import pg from 'pg'

import {BIN, cleanEnv, freshDatabase, median, ROOT, timeOnce} from './lib/measure.mjs'

const TENANTS = 10_000
const CONNECTIONS = 32
const SECONDS = Number(process.env.BENCH_SERVE_SECONDS ?? 5)
const ROUNDS = Number(process.env.BENCH_RUNS ?? 6)
const WEBHOOKS = 1000
const WEBHOOKS_AT_ONCE = 50
const SHOPIFY_SECRET = randomBytes(24).toString('base64')
const MINIMAL = join(ROOT, 'bench', 'lib', 'minimal-tenant-server.mjs')

/**
 * Starts a server process and resolves with it and its URL, read from what it prints.
 * `stdout`: a file descriptor for its stdout (serve's access log goes to a file, as it would
 * to journald or a log file: a pipe that this busy process reads would hold serve up);
 * otherwise stdout is read here too.
 */
async function startServer(args, env, findUrl, stdout = 'pipe') {
  const child = spawn(process.execPath, args, {env: cleanEnv(env), stdio: ['ignore', stdout, 'pipe']})
  let said = ''
  const url = await new Promise((resolve, reject) => {
    const look = (chunk) => {
      said += chunk
      const found = findUrl(said)
      if (found) resolve(found)
    }

    child.stdout?.on('data', look)
    child.stderr.on('data', look)
    child.on('close', (code) => reject(new Error(`${args.join(' ')} exited ${code}: ${said.slice(0, 500)}`)))
  })
  return {
    async stop() {
      child.kill('SIGTERM')
      if (child.exitCode === null) await once(child, 'close')
    },
    url,
  }
}

/** autocannon against `url` for SECONDS at CONNECTIONS, a random tenant per request. */
async function load(url, headers) {
  const result = await autocannon({
    connections: CONNECTIONS,
    duration: SECONDS,
    headers,
    requests: [{setupRequest: (request) => ({...request, path: `/api/tenants/tenant-${1 + Math.floor(Math.random() * TENANTS)}`})}],
    url,
  })
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx answers, ${result.timeouts} timeouts`)
  }

  return {p99: result.latency.p99, rps: result.requests.average}
}

/** 1,000 webhooks, WEBHOOKS_AT_ONCE in flight; each ninth delivered twice, back to back. */
async function webhookStorm(url) {
  const unique = Array.from({length: Math.round(WEBHOOKS / 1.1)}, (_, index) => {
    const shop = `shop-${1 + (index % 500)}.myshopify.com`
    const topic = ['products/update', 'customers/data_request', 'app/uninstalled', 'customers/redact', 'shop/redact'][index % 5]
    return {body: JSON.stringify({domain: shop, id: index}), id: `bench-${index}-${randomBytes(4).toString('hex')}`, shop, topic}
  })
  const deliveries = []
  for (const [index, delivery] of unique.entries()) {
    deliveries.push(delivery)
    if (index % 10 === 0 && deliveries.length < WEBHOOKS) deliveries.push(delivery)
  }

  while (deliveries.length < WEBHOOKS) deliveries.push(unique[deliveries.length % unique.length])
  const latencies = []
  const statuses = new Map()
  let next = 0
  const worker = async () => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++]
      const started = performance.now()
      const response = await globalThis.fetch(`${url}/api/webhooks/shopify`, {
        body: delivery.body,
        headers: {
          'content-type': 'application/json',
          'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(delivery.body).digest('base64'),
          'x-shopify-shop-domain': delivery.shop,
          'x-shopify-topic': delivery.topic,
          'x-shopify-webhook-id': delivery.id,
        },
        method: 'POST',
      })
      await response.arrayBuffer()
      latencies.push(performance.now() - started)
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
    }
  }

  const started = performance.now()
  await Promise.all(Array.from({length: WEBHOOKS_AT_ONCE}, () => worker()))
  return {latencies, seconds: (performance.now() - started) / 1000, statuses, unique: unique.length}
}

export default async function serveBench() {
  const url = await freshDatabase('synthex_bench_serve')
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
  const made = spawnSync(process.execPath, [BIN, 'api-keys', 'create', 'bench', '--scopes', 'tenants:read', '--json'], {env: cleanEnv(env)})
  if (made.status !== 0) throw new Error(`api-keys create: ${made.stderr}`)
  const {key} = JSON.parse(made.stdout.toString())

  const logDir = mkdtempSync(join(tmpdir(), 'synthex-bench-serve-'))
  const accessLog = join(logDir, 'access.log')
  const logFd = openSync(accessLog, 'a')
  const serve = await startServer([BIN, 'serve', '--port', '0'], {...env, SHOPIFY_WEBHOOK_SECRET: SHOPIFY_SECRET, SYNTHEX_API_RATE_LIMIT: '10000000'}, (text) => /listening on (http:\/\/\S+)/.exec(text)?.[1], logFd)
  closeSync(logFd)
  const minimal = await startServer([MINIMAL, url], {}, (text) => /^(\d+)\n/.exec(text)?.[1] && `http://127.0.0.1:${/^(\d+)\n/.exec(text)[1]}`)
  const rows = []
  try {
    const cases = [
      {headers: {authorization: `Bearer ${key}`}, name: 'synthex serve', url: serve.url},
      {headers: {}, name: 'node:http + pg (minimal)', url: minimal.url},
    ]
    // Warm-up: connections opened, code paths compiled and optimised (serve has more code to
    // warm up than the minimal server: its first seconds are slower).
    for (const entry of cases) await load(entry.url, entry.headers)
    const samples = Object.fromEntries(cases.map((entry) => [entry.name, []]))
    const load1 = loadavg()[0]
    // Rounds in pairs, the order alternating (a b, b a, a b...), so that a change in the
    // machine's load hits both alike; the ratio is the median of the pairs' ratios.
    for (let round = 0; round < ROUNDS; round++) {
      for (const entry of round % 2 === 0 ? cases : [...cases].reverse()) samples[entry.name].push(await load(entry.url, entry.headers))
    }

    const figures = Object.fromEntries(cases.map((entry) => [entry.name, {p99: median(samples[entry.name].map((sample) => sample.p99)), rps: median(samples[entry.name].map((sample) => sample.rps))}]))
    const ours = figures['synthex serve']
    const peer = figures['node:http + pg (minimal)']
    const ratios = samples['synthex serve'].map((sample, round) => sample.rps / samples['node:http + pg (minimal)'][round].rps)
    const ratio = median(ratios)
    const table = [
      {case: 'node:http + pg (minimal)', 'p99 ms': peer.p99, 'requests/s': Math.round(peer.rps), ratio: '1.00x'},
      {case: 'synthex serve (authenticated)', goal: '>= 0.5x', 'p99 ms': ours.p99, 'requests/s': Math.round(ours.rps), ratio: `${ratio.toFixed(2)}x`, verdict: ratio >= 0.5 ? 'met' : 'MISSED'},
      {case: 'synthex serve p99', goal: '< 50 ms', 'p99 ms': ours.p99, verdict: ours.p99 < 50 ? 'met' : 'MISSED'},
    ]
    console.log(`\n## serve-get-tenant (GET /api/tenants/{tenantId}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s each, medians; ratio: the median of the rounds' ratios)`)
    console.table(table)
    console.log(`Postgres server database with ${TENANTS.toLocaleString('en')} tenants; a random one per request. autocannon runs in the benchmark's process on the same machine as both servers and Postgres. Load average at the start: ${load1.toFixed(2)}; the rounds' ratios: ${ratios.map((value) => value.toFixed(2)).join(', ')}; rounds: ${JSON.stringify(samples)}.`)
    rows.push(...table.filter((row) => row.verdict))

    const storm = await webhookStorm(serve.url)
    const {rows: counted} = await client.query(
      `select (select count(*) from shopify_webhooks)::int as received,
              (select count(*) from events where type = 'shopify.webhook')::int as events,
              (select count(distinct data->>'webhookId') from events where type = 'shopify.webhook')::int as ids`,
    )
    const {events, ids, received} = counted[0]
    const maxMs = Math.max(...storm.latencies)
    const all2xx = [...storm.statuses.keys()].every((status) => status >= 200 && status < 300)
    const once = received === storm.unique && events === storm.unique && ids === storm.unique
    const stormTable = [
      {case: 'all answered 2xx', goal: 'yes', outcome: JSON.stringify(Object.fromEntries(storm.statuses)), verdict: all2xx ? 'met' : 'MISSED'},
      {case: 'slowest answer', goal: '< 5000 ms', outcome: `${maxMs.toFixed(0)} ms (median ${median(storm.latencies).toFixed(0)} ms, all in ${storm.seconds.toFixed(1)} s)`, verdict: maxMs < 5000 ? 'met' : 'MISSED'},
      {case: 'none applied twice', goal: `${storm.unique} of ${WEBHOOKS}`, outcome: `${received} recorded, ${events} audit events, ${ids} webhook ids`, verdict: once ? 'met' : 'MISSED'},
    ]
    console.log(`\n## serve-shopify-webhooks (${WEBHOOKS.toLocaleString('en')} webhooks, ${WEBHOOKS_AT_ONCE} at once, ${WEBHOOKS - storm.unique} of them a second delivery of an id)`)
    console.table(stormTable)
    rows.push(...stormTable)
    mkdirSync(join(ROOT, 'bench', 'results'), {recursive: true})
    writeFileSync(join(ROOT, 'bench', 'results', 'serve.json'), `${JSON.stringify({at: new Date().toISOString(), figures, loadAverage: load1, node: process.version, rows, samples, webhooks: {maxMs, medianMs: median(storm.latencies), seconds: storm.seconds}}, null, 2)}\n`)
  } finally {
    await Promise.all([serve.stop(), minimal.stop()])
    await client.end()
  }

  const logged = readFileSync(accessLog, 'utf8').split('\n').filter((line) => line.startsWith('{')).length
  rmSync(logDir, {force: true, recursive: true})
  console.log(`serve's access log (to a file, one JSON line per request): ${logged.toLocaleString('en')} lines.`)
  return rows
}
