// `npm run bench`: runs every bench/*.bench.mjs (or those named on the command line) in turn.
// Benchmarks need the built CLI (npm run bench builds it) and a Postgres server:
// BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test.
import {readdirSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const here = fileURLToPath(new URL('.', import.meta.url))
const wanted = process.argv.slice(2)
const files = readdirSync(here)
  .filter((file) => file.endsWith('.bench.mjs'))
  .filter((file) => wanted.length === 0 || wanted.some((name) => file.startsWith(name)))
  .sort()

let missed = 0
for (const file of files) {
  const rows = await (await import(new URL(file, import.meta.url).href)).default()
  missed += rows.filter((row) => row.verdict === 'MISSED').length
}

if (missed > 0) console.log(`\n${missed} goal(s) missed.`)
