// `synthex serve` on a Postgres server database (issue 15):
// - an authenticated `GET /api/tenants/{tenantId}` (a random one of 10,000 tenants per
//   request) at 32 connections, measured with autocannon in the same run as a minimal
//   node:http + pg server doing the same single-row query (bench/lib/minimal-tenant-server.mjs),
//   in rounds of 5 s taken in alternating order so that machine noise hits both alike.
//   Goals: at least 0.5x the minimal server's requests a second, and a p99 under 50 ms;
//   in the same rounds, the cost of roles and row-level security (issue 17) on that route:
//   serve as the tables' owner with a client user's key (serve's own reach checks only), and
//   serve as a login made by `db create-serve-role` with the same key (those checks, and each
//   request's queries wrapped in begin + set_config + commit for the row-level policies);
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
/** The client user's tenants: 10 of the 10,000, spread out; its requests pick among them. */
const CLIENT_TENANTS = Array.from({length: 10}, (_, index) => `tenant-${(index + 1) * (TENANTS / 10)}`)
const CLIENT_EMAIL = 'bench-client@example.com'
/** The login `db create-serve-role` makes (roles are the server's, not the database's: dropped at the end). */
const SERVE_ROLE = 'synthex_bench_serve'
const CASE = {
  client: 'synthex serve, client key (reach checks)',
  legacy: 'synthex serve (authenticated)',
  minimal: 'node:http + pg (minimal)',
  rls: 'synthex serve, client key, serve role (row-level security)',
}

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

/** autocannon against `url` for SECONDS at CONNECTIONS, a random tenant per request (of `tenants`, else of all). */
async function load(url, headers, tenants) {
  const pick = tenants ? () => tenants[Math.floor(Math.random() * tenants.length)] : () => `tenant-${1 + Math.floor(Math.random() * TENANTS)}`
  const result = await autocannon({
    connections: CONNECTIONS,
    duration: SECONDS,
    headers,
    requests: [{setupRequest: (request) => ({...request, path: `/api/tenants/${pick()}`})}],
    url,
  })
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx answers, ${result.timeouts} timeouts`)
  }

  return {p99: result.latency.p99, rps: result.requests.average}
}

/** Runs the built CLI with `env`; fails loudly, else returns its JSON output. */
function cli(args, env) {
  const made = spawnSync(process.execPath, [BIN, ...args, '--json'], {env: cleanEnv(env)})
  if (made.status !== 0) throw new Error(`${args.slice(0, 2).join(' ')}: ${made.stderr}`)
  return JSON.parse(made.stdout.toString())
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
  // A legacy key (no user: a superadmin), and a client user's key reaching CLIENT_TENANTS.
  const {key} = cli(['api-keys', 'create', 'bench', '--scopes', 'tenants:read'], env)
  cli(['users', 'create', CLIENT_EMAIL, '--role', 'client', ...CLIENT_TENANTS.flatMap((tenant) => ['--tenant', tenant])], env)
  const {key: clientKey} = cli(['api-keys', 'create', 'bench-client', '--scopes', 'tenants:read', '--user', CLIENT_EMAIL], env)
  // The serve login, bound by row-level security. A role of that name left by an interrupted
  // run goes first: its grants were on a database freshDatabase has dropped.
  await client.query(`drop role if exists ${SERVE_ROLE}`)
  cli(['db', 'create-serve-role', SERVE_ROLE, '--no-password'], env)
  const serveRoleUrl = new URL(url)
  serveRoleUrl.username = SERVE_ROLE
  serveRoleUrl.password = ''

  const logDir = mkdtempSync(join(tmpdir(), 'synthex-bench-serve-'))
  const accessLogs = [join(logDir, 'access.log'), join(logDir, 'access-serve-role.log')]
  const serveEnv = {...env, SHOPIFY_WEBHOOK_SECRET: SHOPIFY_SECRET, SYNTHEX_API_RATE_LIMIT: '10000000'}
  const listening = (text) => /listening on (http:\/\/\S+)/.exec(text)?.[1]
  const servers = []
  const rows = []
  try {
    const logFd = openSync(accessLogs[0], 'a')
    const serve = await startServer([BIN, 'serve', '--port', '0'], serveEnv, listening, logFd).finally(() => closeSync(logFd))
    servers.push(serve)
    const roleLogFd = openSync(accessLogs[1], 'a')
    let rowSecurityOn = false
    const serveRole = await startServer([BIN, 'serve', '--port', '0'], {...serveEnv, DATABASE_URL: serveRoleUrl.toString()}, (text) => {
      rowSecurityOn ||= /row-level security: on/.test(text)
      return listening(text)
    }, roleLogFd).finally(() => closeSync(roleLogFd))
    servers.push(serveRole)
    if (!rowSecurityOn) throw new Error(`serve as ${SERVE_ROLE} did not say row-level security is on`)
    const minimal = await startServer([MINIMAL, url], {}, (text) => /^(\d+)\n/.exec(text)?.[1] && `http://127.0.0.1:${/^(\d+)\n/.exec(text)[1]}`)
    servers.push(minimal)
    // (a) and (b) are one serve process (the tables' owner: the policies do not bind it) asked
    // with two keys; (c) is a second serve process running as the serve role.
    const cases = [
      {headers: {authorization: `Bearer ${key}`}, name: CASE.legacy, url: serve.url},
      {headers: {authorization: `Bearer ${clientKey}`}, name: CASE.client, tenants: CLIENT_TENANTS, url: serve.url},
      {headers: {authorization: `Bearer ${clientKey}`}, name: CASE.rls, tenants: CLIENT_TENANTS, url: serveRole.url},
      {headers: {}, name: CASE.minimal, url: minimal.url},
    ]
    // Warm-up: connections opened, code paths compiled and optimised (serve has more code to
    // warm up than the minimal server: its first seconds are slower).
    for (const entry of cases) await load(entry.url, entry.headers, entry.tenants)
    const samples = Object.fromEntries(cases.map((entry) => [entry.name, []]))
    const load1 = loadavg()[0]
    // Rounds of every case, the order alternating (a b c d, d c b a, ...), so that a change in
    // the machine's load hits all alike; a ratio is the median of the rounds' ratios.
    for (let round = 0; round < ROUNDS; round++) {
      for (const entry of round % 2 === 0 ? cases : [...cases].reverse()) samples[entry.name].push(await load(entry.url, entry.headers, entry.tenants))
    }

    const figures = Object.fromEntries(cases.map((entry) => [entry.name, {p99: median(samples[entry.name].map((sample) => sample.p99)), rps: median(samples[entry.name].map((sample) => sample.rps))}]))
    const roundRatios = (name, base) => samples[name].map((sample, round) => sample.rps / samples[base][round].rps)
    const toMinimal = Object.fromEntries(cases.map((entry) => [entry.name, roundRatios(entry.name, CASE.minimal)]))
    const ratio = median(toMinimal[CASE.legacy])
    const ours = figures[CASE.legacy]
    const peer = figures[CASE.minimal]
    const clientToLegacy = roundRatios(CASE.client, CASE.legacy)
    const rlsToLegacy = roundRatios(CASE.rls, CASE.legacy)
    const line = (name, extra = {}) => ({case: name, 'p99 ms': figures[name].p99, 'requests/s': Math.round(figures[name].rps), ratio: `${median(toMinimal[name]).toFixed(2)}x`, ...extra})
    const table = [
      {case: CASE.minimal, 'p99 ms': peer.p99, 'requests/s': Math.round(peer.rps), ratio: '1.00x'},
      line(CASE.legacy, {goal: '>= 0.5x', verdict: ratio >= 0.5 ? 'met' : 'MISSED'}),
      {case: 'synthex serve p99', goal: '< 50 ms', 'p99 ms': ours.p99, verdict: ours.p99 < 50 ? 'met' : 'MISSED'},
      line(CASE.client, {'vs legacy key': `${median(clientToLegacy).toFixed(2)}x`}),
      line(CASE.rls, {'vs legacy key': `${median(rlsToLegacy).toFixed(2)}x`}),
    ]
    console.log(`\n## serve-get-tenant (GET /api/tenants/{tenantId}, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s each, medians; ratio: to the minimal server, vs legacy key: to serve with the legacy key, each the median of the rounds' ratios)`)
    console.table(table)
    console.log(
      `Postgres server database with ${TENANTS.toLocaleString('en')} tenants; a random one per request (the client key: a random one of its ${CLIENT_TENANTS.length}). ` +
        `Legacy key: no user (a superadmin), serve as the tables' owner. Client key: a client user's, serve as the tables' owner (serve's own reach checks; the policies do not bind the owner), ` +
        `and serve as the login \`db create-serve-role\` made (the policies too: each request's queries run in begin + set_config + commit). ` +
        `autocannon runs in the benchmark's process on the same machine as the servers and Postgres. Load average at the start: ${load1.toFixed(2)}; ` +
        `the rounds' ratios to the minimal server: ${Object.entries(toMinimal).filter(([name]) => name !== CASE.minimal).map(([name, values]) => `${name}: ${values.map((value) => value.toFixed(2)).join(', ')}`).join('; ')}; ` +
        `client key / legacy key: ${clientToLegacy.map((value) => value.toFixed(2)).join(', ')}; serve role / legacy key: ${rlsToLegacy.map((value) => value.toFixed(2)).join(', ')}; rounds: ${JSON.stringify(samples)}.`,
    )
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
    await Promise.all(servers.map((server) => server.stop()))
    // The role is the server's: it outlives the database unless dropped (with its grants).
    await client.query(`drop owned by ${SERVE_ROLE}`)
    await client.query(`drop role ${SERVE_ROLE}`)
    await client.end()
  }

  const logged = accessLogs.map((file) => readFileSync(file, 'utf8').split('\n').filter((line) => line.startsWith('{')).length).reduce((sum, count) => sum + count, 0)
  rmSync(logDir, {force: true, recursive: true})
  console.log(`serve's access logs (to files, one JSON line per request): ${logged.toLocaleString('en')} lines.`)
  return rows
}
