// The embedded database (issue 14, parts 1 and 5), on a home holding 10,000 tenants:
// - a command through the shared embedded server (`db start`) against a clean `node -e 0`:
//   goal at most 4x;
// - a command opening the database itself against a bare PGlite open + query + close of the
//   same data directory: goal at most 1.15x (and, for information, against PGlite opened
//   with synthex's own settings);
// - two processes at once: a 100,000-row import and a list beside it, without and with the
//   server: without, the list waits for the import and gives up after SYNTHEX_LOCK_TIMEOUT
//   (10 s); with, both run. Goal: both succeed.
import {spawn} from 'node:child_process'
import {cpSync, createWriteStream, mkdtempSync} from 'node:fs'
import {once} from 'node:events'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {BIN, cleanEnv, measure, median, report, ROOT, timeOnce} from './lib/measure.mjs'

const TENANTS = 10_000
const IMPORT_ROWS = 100_000
const BARE = join(ROOT, 'bench', 'lib', 'pglite-bare.mjs')

async function writeCsv(path, rows, prefix) {
  const out = createWriteStream(path)
  out.write('tenant_id,name,type,shopify_shop\n')
  for (let i = 0; i < rows; i++) {
    if (!out.write(`${prefix}-${String(i).padStart(6, '0')},Tenant ${i},shopify,${prefix}-${i}.myshopify.com\n`)) await once(out, 'drain')
  }

  out.end()
  await once(out, 'finish')
}

/** Runs a command to its end without blocking this process; resolves with exit code and wall ms. */
function start(args, env) {
  const started = process.hrtime.bigint()
  const child = spawn(process.execPath, [BIN, ...args], {env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  return new Promise((resolve) => child.on('close', (code) => resolve({code, ms: Number(process.hrtime.bigint() - started) / 1e6, stderr})))
}

/** An import and, half a second into it, a list: both outcomes. */
async function importBesideList(home, csv) {
  const importing = start(['batch', 'tenants', 'create', '--from-csv', csv, '--on-conflict', 'skip'], {SYNTHEX_HOME: home})
  await new Promise((resolve) => setTimeout(resolve, 500))
  const listing = await start(['tenant', 'tenants', 'list', '--json'], {SYNTHEX_HOME: home})
  return {imported: await importing, listed: listing}
}

export default async function embedded() {
  const dir = mkdtempSync(join(tmpdir(), 'synthex-bench-embedded-'))
  const own = join(dir, 'own')
  const shared = join(dir, 'shared')
  const csv = join(dir, 'tenants.csv')
  await writeCsv(csv, TENANTS, 'tenant')
  timeOnce({args: [BIN, 'batch', 'tenants', 'create', '--from-csv', csv], command: process.execPath, env: {SYNTHEX_HOME: own}})
  cpSync(own, shared, {recursive: true})
  timeOnce({args: [BIN, 'db', 'start', '--idle-timeout', '0s'], command: process.execPath, env: {SYNTHEX_HOME: shared}})
  const list = [BIN, 'tenant', 'tenants', 'list', '--json']
  const rows = []
  try {
    const samples = measure(
      [
        {args: ['-e', '0'], command: process.execPath, name: 'node -e 0'},
        {args: list, command: process.execPath, env: {SYNTHEX_HOME: shared}, name: 'synthex tenant tenants list --json (through db start)'},
        {args: [BARE, join(own, 'pgdata')], command: process.execPath, name: 'bare PGlite open + query + close'},
        {args: [BARE, join(own, 'pgdata'), 'tuned'], command: process.execPath, name: 'bare PGlite, synthex\'s settings'},
        {args: list, command: process.execPath, env: {SYNTHEX_HOME: own}, name: 'synthex tenant tenants list --json (opens it itself)'},
      ],
      {runs: Number(process.env.BENCH_RUNS ?? 10), warmup: 2},
    )
    const pick = (...names) => Object.fromEntries(names.map((name) => [name, samples[name]]))
    rows.push(
      ...report('embedded-shared', pick('node -e 0', 'synthex tenant tenants list --json (through db start)'), {
        baseline: 'node -e 0',
        goals: {'synthex tenant tenants list --json (through db start)': 4},
        notes: [`A home with ${TENANTS.toLocaleString('en')} tenants served by \`synthex db start\`; the list returns its first page of 100.`],
      }),
      ...report('embedded-own', pick('bare PGlite open + query + close', 'bare PGlite, synthex\'s settings', 'synthex tenant tenants list --json (opens it itself)'), {
        baseline: 'bare PGlite open + query + close',
        goals: {'synthex tenant tenants list --json (opens it itself)': 1.15},
        notes: [
          `The same ${TENANTS.toLocaleString('en')} tenants, no server: synthex takes the lock, opens PGlite, checks migrations, lists, closes. The bare peer (bench/lib/pglite-bare.mjs) opens PGlite with its defaults; against PGlite opened with synthex's settings the command is ${(median(samples['synthex tenant tenants list --json (opens it itself)']) / median(samples["bare PGlite, synthex's settings"])).toFixed(2)}x.`,
        ],
      }),
    )

    // Two processes at once, without and with the server.
    const bigCsv = join(dir, 'import.csv')
    await writeCsv(bigCsv, IMPORT_ROWS, 'bulk')
    const alone = await importBesideList(own, bigCsv)
    const beside = await importBesideList(shared, bigCsv)
    const both = (outcome) => outcome.imported.code === 0 && outcome.listed.code === 0
    const say = (outcome) =>
      `import ${outcome.imported.code === 0 ? 'ok' : `exit ${outcome.imported.code}`} in ${(outcome.imported.ms / 1000).toFixed(1)} s; list ${outcome.listed.code === 0 ? 'ok' : `exit ${outcome.listed.code}`} in ${(outcome.listed.ms / 1000).toFixed(2)} s`
    console.log(`\n## embedded-two-processes (a ${IMPORT_ROWS.toLocaleString('en')}-row import, and a list started 0.5 s into it)`)
    console.table([
      {case: 'no server: each opens the database in turn', outcome: say(alone), verdict: both(alone) ? 'both ran' : 'one failed'},
      {case: 'through db start', goal: 'both run', outcome: say(beside), verdict: both(beside) ? 'met' : 'MISSED'},
    ])
    if (!both(beside)) rows.push({verdict: 'MISSED'})
  } finally {
    timeOnce({args: [BIN, 'db', 'stop'], command: process.execPath, env: {SYNTHEX_HOME: shared}})
  }

  return rows
}
