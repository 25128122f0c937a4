// Small helpers for synthex benchmarks: run commands many times, interleaved with their
// peers so that machine noise hits all of them alike, and report medians and ratios.
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = join(ROOT, 'bin', 'run.js')

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/**
 * The environment every benchmarked process runs with: PATH and HOME from this process,
 * plus the case's own settings (DATABASE_URL, keys, SYNTHEX_HOME...), and nothing else
 * inherited. On these machines NODE_EXTRA_CA_CERTS is set and makes every Node start about
 * 65 ms slower; inherited, it would inflate the `node -e 0` baseline and flatter every
 * ratio. Same as `env -i PATH=$PATH HOME=$HOME <extra> command`.
 */
export function cleanEnv(extra = {}) {
  const env = {}
  for (const name of ['PATH', 'HOME']) if (process.env[name] !== undefined) env[name] = process.env[name]
  return {...env, ...extra}
}

/** What a report's notes say about the environment and, where there is one, the `node -e 0` baseline. */
const ENVIRONMENT_NOTE = 'Every command ran with a clean environment: PATH and HOME, plus its own settings (DATABASE_URL, keys...), nothing else inherited.'
const NODE_BASELINE_NOTE = `Baseline \`node -e 0\`: ${process.execPath} (${process.version}) run as \`env -i PATH=$PATH HOME=$HOME node -e 0\`.`

/** Wall time of one run of a command, in milliseconds; fails loudly if the command fails. */
export function timeOnce({args, command, env}) {
  const started = process.hrtime.bigint()
  const result = spawnSync(command, args, {env: cleanEnv(env), maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe']})
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.toString().slice(0, 500)}`)
  }

  return elapsed
}

/**
 * Like timeOnce (the same clean environment), but without blocking this process: for benchmarks that serve something
 * (a fake provider) from this process while the command runs.
 */
export async function timeOnceAsync({args, command, env}) {
  const started = process.hrtime.bigint()
  const child = spawn(command, args, {env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const code = await new Promise((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(0, 500)}`)
  return Number(process.hrtime.bigint() - started) / 1e6
}

/**
 * Runs every case `runs` times after `warmup` runs, round-robin (a, b, c, a, b, c, ...),
 * and returns the samples per case name.
 */
export function measure(cases, {runs = 20, warmup = 3} = {}) {
  for (let round = 0; round < warmup; round++) for (const entry of cases) timeOnce(entry)
  const samples = Object.fromEntries(cases.map((entry) => [entry.name, []]))
  for (let round = 0; round < runs; round++) {
    for (const entry of cases) samples[entry.name].push(timeOnce(entry))
  }

  return samples
}

/** Prints a table of medians (and ratios against `baseline`) and saves the figures as JSON. */
export function report(name, samples, {baseline, goals = {}, notes = []} = {}) {
  const base = baseline ? median(samples[baseline]) : undefined
  const rows = Object.entries(samples).map(([caseName, values]) => {
    const value = median(values)
    const ratio = base ? value / base : undefined
    const goal = goals[caseName]
    return {
      case: caseName,
      goal: goal === undefined ? '' : `<= ${goal}x`,
      'median ms': value.toFixed(1),
      'min ms': Math.min(...values).toFixed(1),
      ratio: ratio === undefined ? '' : `${ratio.toFixed(2)}x`,
      runs: values.length,
      verdict: goal === undefined ? '' : ratio <= goal ? 'met' : 'MISSED',
    }
  })
  console.log(`\n## ${name}`)
  console.table(rows)
  for (const note of [...notes, ENVIRONMENT_NOTE, ...('node -e 0' in samples ? [NODE_BASELINE_NOTE] : [])]) console.log(note)
  const file = join(ROOT, 'bench', 'results', `${name}.json`)
  mkdirSync(dirname(file), {recursive: true})
  writeFileSync(file, `${JSON.stringify({at: new Date().toISOString(), baseline, node: process.version, rows, samples}, null, 2)}\n`)
  return rows
}

/** The Postgres server to benchmark against (an admin URL; benchmarks create their own database). */
export function serverUrl() {
  return process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
}

/** Creates (or recreates) a database for a benchmark and returns its URL. */
export async function freshDatabase(name) {
  const {default: pg} = await import('pg')
  const admin = new pg.Client({connectionString: serverUrl()})
  await admin.connect()
  await admin.query(`drop database if exists ${name} with (force)`)
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(serverUrl())
  url.pathname = `/${name}`
  return url.toString()
}
