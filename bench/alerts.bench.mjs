// Alerts from cron at fleet scale (issue 5): 100,000 tenants and 200,000 credentials on the
// Postgres server, 10% of them expiring. The first `alerts check-now` raises 20,000 alerts
// and delivers one PagerDuty event each to a local fake answering after 20 ms, through a
// channel configured for 500 events/s and 16 in flight; its throughput should be that rate
// limit, not synthex. The runs after it, with nothing new, should take under 500 ms (issue 14).
import {Buffer} from 'node:buffer'
import {createServer} from 'node:http'

import pg from 'pg'

import {BIN, freshDatabase, median, report, timeOnce, timeOnceAsync} from './lib/measure.mjs'

const TENANTS = Number(process.env.BENCH_ALERT_TENANTS ?? 100_000)
const RATE_PER_MINUTE = 30_000
const CONCURRENCY = 16
const LATENCY_MS = 20
const ROUTING_KEY = 'R0UT1NGK3Y0123456789ABCDEF012345'
const GOAL_MS = 500

function fakePagerDuty() {
  let events = 0
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      setTimeout(() => {
        events++
        response.writeHead(202, {'content-type': 'application/json'})
        response.end('{"status":"success","message":"Event processed"}')
      }, LATENCY_MS)
    })
  })
  return {
    close: () => new Promise((resolve) => server.close(resolve)),
    get events() {
      return events
    },
    listen: () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}/v2/enqueue`))),
  }
}

export default async function alerts() {
  const url = await freshDatabase('synthex_bench_alerts')
  const env = {DATABASE_URL: url, SYNTHEX_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64')}
  timeOnce({args: [BIN, 'db', 'migrate'], command: process.execPath, env})
  const client = new pg.Client({connectionString: url})
  await client.connect()
  const workspace = (await client.query(`select id from workspaces where slug = 'default'`)).rows[0].id
  await client.query(
    `insert into tenants (workspace_id, tenant_id, name, type, shopify_shop, gmc_merchant_id)
     select $1, 'tenant-' || i, 'Tenant ' || i, 'mixed', 'shop-' || i || '.myshopify.com', (1000000 + i)::text from generate_series(1, $2) as i`,
    [workspace, TENANTS],
  )
  // Two credentials a tenant; one in ten expires within the next 30 days (spread over them, an
  // hour past a day's turn), the rest in a year.
  await client.query(
    `insert into credentials (tenant_id, service, label, version, ciphertext, key_id, fingerprint, expires_at)
     select t.id, s.service, 'default', 1, 'v1:k:AAAA', 'k', '000000000000',
            case when (row_number() over ()) % 10 = 0 then now() + (((row_number() over ()) / 10) % 30) * interval '1 day' + interval '1 hour'
                 else now() + interval '365 days' end
     from tenants t cross join (values ('shopify'), ('gmc')) as s(service)`,
  )
  await client.query('vacuum analyze')

  const fake = fakePagerDuty()
  const eventsUrl = await fake.listen()
  await timeOnceAsync({
    args: [BIN, 'alerts', 'channels', 'add', 'bench-pd', '--type', 'pagerduty', '--from-env', 'PD_KEY', '--events-url', eventsUrl, '--rate-per-minute', String(RATE_PER_MINUTE), '--concurrency', String(CONCURRENCY), '--allow-http', '--allow-private-network'],
    command: process.execPath,
    env: {...env, PD_KEY: ROUTING_KEY},
  })

  // Asynchronously: the fake answers from this process while synthex runs.
  // One notification per alert (no storm digest): the point is the delivery rate.
  const first = await timeOnceAsync({args: [BIN, 'alerts', 'check-now', '--max-wait', '600s', '--digest-over', '1000000'], command: process.execPath, env})
  const {rows: [window]} = await client.query(
    `select count(*)::int as sent, extract(epoch from max(sent_at) - min(sent_at)) * 1000 as ms from alert_notifications where state = 'sent'`,
  )
  const expected = (await client.query(`select count(*)::int as n from alerts where state = 'firing'`)).rows[0].n
  if (window.sent !== expected || fake.events !== expected) throw new Error(`sent ${window.sent}, fake received ${fake.events}, alerts firing ${expected}`)
  // A cron's next run meets tables autovacuum has visited since (20,000 outbox rows turned
  // sent are past its threshold within its first minute). The test server runs without
  // autovacuum, so the bench does what it would.
  await client.query('vacuum analyze')

  // Both with a clean environment (measure.mjs: cleanEnv).
  const samples = {'node -e 0': [], 'synthex alerts check-now (nothing new)': []}
  for (let round = 0; round < Number(process.env.BENCH_RUNS ?? 10); round++) {
    samples['node -e 0'].push(await timeOnceAsync({args: ['-e', '0'], command: process.execPath}))
    samples['synthex alerts check-now (nothing new)'].push(await timeOnceAsync({args: [BIN, 'alerts', 'check-now'], command: process.execPath, env}))
  }

  await fake.close()
  await client.end()
  const perSecond = (window.sent * 1000) / window.ms
  const second = median(samples['synthex alerts check-now (nothing new)'])
  const rows = report('alerts', samples, {
    baseline: 'node -e 0',
    notes: [
      `${TENANTS.toLocaleString('en')} tenants, ${(2 * TENANTS).toLocaleString('en')} credentials, ${expected.toLocaleString('en')} alerts firing.`,
      `First run: ${(first / 1000).toFixed(1)} s in all; ${window.sent.toLocaleString('en')} PagerDuty events delivered at ${Math.round(perSecond)}/s against a configured limit of ${RATE_PER_MINUTE / 60}/s (${CONCURRENCY} in flight, ${LATENCY_MS} ms latency: at most ${Math.round((CONCURRENCY * 1000) / LATENCY_MS)}/s): ${(100 * perSecond / (RATE_PER_MINUTE / 60)).toFixed(0)}% of the rate limit.`,
      `Runs with nothing new: median ${second.toFixed(0)} ms (goal: under ${GOAL_MS} ms) - ${second < GOAL_MS ? 'met' : 'MISSED'}.`,
    ],
  })
  if (second >= GOAL_MS) rows.push({case: 'synthex alerts check-now (nothing new)', goal: `< ${GOAL_MS} ms`, 'median ms': second.toFixed(1), verdict: 'MISSED'})
  return rows
}
