import {spawn} from 'node:child_process'
import {cpSync, mkdtempSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {inject} from 'vitest'

import {makeTreePrivate} from '../../src/db/private-home.js'

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
  readonly stdout: string
}

export interface CliOptions {
  readonly env?: Record<string, string | undefined>
  readonly input?: string
  readonly timeoutMs?: number
}

/**
 * What every spawned CLI gets unless a test says otherwise: the stand-in providers listen on
 * 127.0.0.1 over plain http, which synthex refuses for channels from the environment
 * (SLACK_WEBHOOK_URL...) without these opt-outs. A test of the refusal passes them as
 * undefined. Stored channels opt out with `channels add --allow-http --allow-private-network`.
 */
export const LOCAL_PROVIDERS_ENV = {SYNTHEX_ALLOW_HTTP: '1', SYNTHEX_ALLOW_PRIVATE_NETWORK: '1'} as const

/**
 * The environment of a spawned CLI: the caller's, minus what would change synthex's
 * behaviour behind the test's back (a developer's DATABASE_URL, NODE_ENV=test from vitest,
 * CI or NO_COLOR from the machine), plus LOCAL_PROVIDERS_ENV.
 */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, ...LOCAL_PROVIDERS_ENV}
  for (const name of ['DATABASE_URL', 'SYNTHEX_DATABASE_URL', 'SYNTHEX_HOME', 'SYNTHEX_WORKSPACE', 'NODE_ENV', 'CI', 'NO_COLOR', 'FORCE_COLOR', 'DEBUG', 'SYNTHEX_LOCK_TIMEOUT']) {
    delete env[name]
  }

  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }

  return env
}

/** Starts the built CLI; the caller decides when to wait for it. */
export function startCli(args: readonly string[], options: CliOptions = {}) {
  const child = spawn(process.execPath, [BIN, ...args], {env: cliEnv(options.env), stdio: ['pipe', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  if (options.input !== undefined) child.stdin.end(options.input)
  else child.stdin.end()
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stderr, stdout})
    })
  })
  return {child, done, output: () => ({stderr, stdout})}
}

/** Runs the built CLI to completion. */
export async function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, options).done
}

/** Parses stdout as exactly one JSON document, failing the test if anything else is there. */
export function parseJson<T = unknown>(result: CliResult): T {
  return JSON.parse(result.stdout) as T
}

/**
 * A SYNTHEX_HOME whose embedded database is already created and migrated (from the test
 * template), so each test does not pay for initdb. `fresh: true` leaves it empty.
 */
export async function makeHome(options: {fresh?: boolean} = {}): Promise<string> {
  const home = mkdtempSync(join(inject('scratch'), 'home-'))
  if (!options.fresh) {
    cpSync(inject('pgliteTemplateDir'), join(home, 'pgdata'), {recursive: true})
    // Private, as synthex itself would have created it: a home others can read gets a warning.
    makeTreePrivate(join(home, 'pgdata'))
  }

  return home
}


/**
 * Runs synthex on a pseudo-terminal (util-linux `script`), as a person at a terminal would:
 * it is interactive, so `delete` asks for confirmation and holds the database meanwhile.
 */
export function startOnTerminal(args: string[], env: Record<string, string>) {
  const command = [process.execPath, BIN, ...args].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ')
  const child = spawn('script', ['-qec', command, '/dev/null'], {env: cliEnv(env), stdio: ['pipe', 'pipe', 'pipe']})
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {child, done, output: () => output}
}
