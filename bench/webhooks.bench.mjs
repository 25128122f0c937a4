// Webhook delivery throughput (issue 18): 10,000 events queued for one subscription whose
// receiver answers after LATENCY_MS, delivered by `synthex webhooks deliver --concurrency C`.
// No sender can beat C requests in flight each taking LATENCY_MS: the limit is C /
// LATENCY_MS. On a busy machine even a bare sender falls short of it, so the peer measured
// in the same run is one: a Node process POSTing the same number of bodies, C in flight, a
// connection each (as synthex does), with no database, no claims and no signatures. Ratios
// close to 1 mean the receiver's latency and the concurrency limit delivery, not synthex.
// Then the same beside a second subscription whose receiver never answers (each request
// waits out the 10 s timeout): the healthy subscription's throughput should not change.
import {Buffer} from 'node:buffer'
import {createServer as createNetServer} from 'node:net'
import {performance} from 'node:perf_hooks'
import {createServer} from 'node:http'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {build} from 'esbuild'
import pg from 'pg'

import {BIN, freshDatabase, ROOT, timeOnce, timeOnceAsync} from './lib/measure.mjs'

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 10_000)
const CONCURRENCY = 16
const LATENCY_MS = 20
const KEY = Buffer.alloc(32, 9)
/** The limit no sender can beat, in deliveries per second. */
const LIMIT = (CONCURRENCY * 1000) / LATENCY_MS

/** A receiver answering 204 after LATENCY_MS; it notes when each delivery was accepted. */
function receiver() {
  const accepted = []
  const server = createServer((request, response) => {
    request.resume()
    request.on('end', () => {
      setTimeout(() => {
        accepted.push(performance.now())
        response.writeHead(204)
        response.end()
      }, LATENCY_MS)
    })
  })
  return {
    accepted,
    close: () => new Promise((resolve) => server.close(resolve)),
    listen: () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}/hook`))),
    /** Deliveries per second from the first accepted to the last. */
    perSecond: () => ((accepted.length - 1) * 1000) / (accepted.at(-1) - accepted[0]),
  }
}

/** A receiver that accepts connections and never answers: each request waits out its timeout. */
function silent() {
  const sockets = new Set()
  const server = createNetServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.resume()
  })
  return {
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(resolve))
    },
    listen: () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}/hook`))),
  }
}

/** The peer: C loops POSTing a body of a delivery's size, a connection each, and nothing else. */
const PEER = `
import {request} from 'node:http'
const [url, total, concurrency] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])]
const body = JSON.stringify({data: {actor: 'bench', id: 'tenant-00000', name: 'Tenant 00000', source: 'bench', workspace: 'default'}, timestamp: new Date().toISOString(), type: 'tenant.created'})
let next = 0
const post = () => new Promise((resolve, reject) => {
  const req = request(url, {agent: false, headers: {'content-length': Buffer.byteLength(body), 'content-type': 'application/json'}, method: 'POST'}, (res) => { res.resume(); res.on('end', resolve) })
  req.on('error', reject)
  req.end(body)
})
await Promise.all(Array.from({length: concurrency}, async () => { while (next++ < total) await post() }))
`

/** synthex's own addSubscription (src/services/webhooks/subscriptions.ts), bundled for this script: the subscription is sealed as the CLI seals it. */
async function services() {
  const dir = join(ROOT, 'node_modules', '.cache', 'synthex-bench')
  mkdirSync(dir, {recursive: true})
  const entry = join(dir, 'webhooks-entry.ts')
  writeFileSync(
    entry,
    [
      `export {addSubscription} from ${JSON.stringify(join(ROOT, 'src/services/webhooks/subscriptions.ts'))}`,
      `export {derivedKeyId, Keyring} from ${JSON.stringify(join(ROOT, 'src/crypto/keyring.ts'))}`,
      `export {openDatabase} from ${JSON.stringify(join(ROOT, 'src/db/open-database.ts'))}`,
    ].join('\n'),
  )
  const outfile = join(dir, 'webhooks-services.mjs')
  await build({bundle: true, entryPoints: [entry], format: 'esm', logLevel: 'error', outfile, packages: 'external', platform: 'node'})
  return import(outfile)
}

export default async function webhooks() {
  const url = await freshDatabase('synthex_bench_webhooks')
  const env = {DATABASE_URL: url, SYNTHEX_ENCRYPTION_KEY: KEY.toString('base64')}
  timeOnce({args: [BIN, 'db', 'migrate'], command: process.execPath, env})
  const {addSubscription, derivedKeyId, Keyring, openDatabase} = await services()
  const keyring = new Keyring({id: derivedKeyId(KEY), key: KEY})
  const opened = await openDatabase({kind: 'server', setting: 'DATABASE_URL', url}, {command: 'bench'})
  const client = new pg.Client({connectionString: url})
  await client.connect()
  const healthy = receiver()
  const down = silent()
  const [healthyUrl, downUrl] = [await healthy.listen(), await down.listen()]
  const subscribe = async (name, target) =>
    (await addSubscription(opened.db, keyring, {actor: 'bench', source: 'bench'}, {allowHttp: true, allowPrivateNetwork: true, events: ['tenant.*'], name, url: target})).subscription.id
  const queue = (subscription) =>
    client.query(
      `insert into webhook_deliveries (subscription_id, event_type, payload)
       select $1, 'tenant.created', jsonb_build_object('type', 'tenant.created', 'timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'data', jsonb_build_object('id', 'tenant-' || i, 'name', 'Tenant ' || i, 'workspace', 'default', 'actor', 'bench', 'source', 'bench'))
       from generate_series(1, $2) as i`,
      [subscription, EVENTS],
    )
  const deliver = (maxWait) => timeOnceAsync({args: [BIN, 'webhooks', 'deliver', '--concurrency', String(CONCURRENCY), '--max-wait', maxWait], command: process.execPath, env})
  const sent = async (subscription) => (await client.query(`select count(*)::int as n from webhook_deliveries where subscription_id = $1 and state = 'sent'`, [subscription])).rows[0].n

  // The peer, before and after synthex alone: the mean of the two.
  const peerRate = async () => {
    healthy.accepted.length = 0
    await timeOnceAsync({args: ['--input-type=module', '-e', PEER, healthyUrl, String(EVENTS), String(CONCURRENCY)], command: process.execPath})
    if (healthy.accepted.length !== EVENTS) throw new Error(`peer: received ${healthy.accepted.length} of ${EVENTS}`)
    return healthy.perSecond()
  }
  const peerBefore = await peerRate()
  healthy.accepted.length = 0

  // Alone.
  const alone = await subscribe('alone', healthyUrl)
  await queue(alone)
  await client.query('vacuum analyze webhook_deliveries')
  const aloneMs = await deliver('600s')
  if ((await sent(alone)) !== EVENTS || healthy.accepted.length !== EVENTS) throw new Error(`alone: sent ${await sent(alone)}, received ${healthy.accepted.length} of ${EVENTS}`)
  const aloneRate = healthy.perSecond()
  const peer = (peerBefore + (await peerRate())) / 2

  // Beside a subscriber that never answers.
  await client.query(`update webhook_subscriptions set disabled_at = now(), disabled_reason = 'bench' where id = $1`, [alone])
  healthy.accepted.length = 0
  const beside = await subscribe('beside', healthyUrl)
  const stuck = await subscribe('stuck', downUrl)
  await queue(beside)
  await queue(stuck)
  await client.query('vacuum analyze webhook_deliveries')
  // Long enough for the healthy one's 10,000 (about 13 s at the limit), and for the stuck one's first timeouts.
  const besideMs = await deliver('30s')
  if ((await sent(beside)) !== EVENTS) throw new Error(`beside: sent ${await sent(beside)} of ${EVENTS}`)
  const besideRate = healthy.perSecond()
  const stuckPending = (await client.query(`select count(*)::int as n from webhook_deliveries where subscription_id = $1 and state = 'pending'`, [stuck])).rows[0].n

  await Promise.all([healthy.close(), down.close(), client.end(), opened.close()])
  const row = (name, rate, ms) => ({case: name, 'deliveries/s': rate.toFixed(0), 'ratio to limit': (rate / LIMIT).toFixed(2), 'ratio to peer': (rate / peer).toFixed(2), 'run s': ms === undefined ? '' : (ms / 1000).toFixed(1)})
  const rows = [
    row(`limit: ${CONCURRENCY} in flight / ${LATENCY_MS} ms`, LIMIT),
    row('peer: a bare sender (mean of 2)', peer),
    row(`synthex webhooks deliver, ${EVENTS.toLocaleString('en')} events`, aloneRate, aloneMs),
    row('the same beside a subscriber that never answers', besideRate, besideMs),
  ]
  console.log('\n## webhooks')
  console.table(rows)
  for (const note of [
    `Receiver on 127.0.0.1 answering 204 after ${LATENCY_MS} ms; --concurrency ${CONCURRENCY}: no sender can exceed ${CONCURRENCY} / ${LATENCY_MS} ms = ${LIMIT.toFixed(0)} deliveries/s. The peer is a bare Node sender with the same concurrency and a connection per request, measured before and after synthex. Throughput is measured at the receiver, first delivery to last.`,
    `Beside a subscriber that never answers (each of its requests waits out the 10 s timeout; ${stuckPending.toLocaleString('en')} of its deliveries still pending after the 30 s run): ${(besideRate / aloneRate).toFixed(2)}x the healthy subscription's throughput alone.`,
    'Every command ran with a clean environment: PATH and HOME, plus its own settings (DATABASE_URL, keys...), nothing else inherited.',
  ]) {
    console.log(note)
  }

  const file = join(ROOT, 'bench', 'results', 'webhooks.json')
  mkdirSync(join(ROOT, 'bench', 'results'), {recursive: true})
  writeFileSync(file, `${JSON.stringify({at: new Date().toISOString(), node: process.version, rows}, null, 2)}\n`)
  return rows
}
