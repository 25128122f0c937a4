import {execFile, spawn} from 'node:child_process'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {NpmRegistry, type PublishedPackage} from '../fakes/npm-registry.js'
import {type CliResult, cliEnv} from './cli.js'

/**
 * A registry on 127.0.0.1 serving synthex's dependencies (packed from node_modules by the
 * global setup), so that `npm install <synthex tarball>` resolves them as it would from
 * npmjs.com, and no test reaches beyond this machine.
 */
export async function startRegistry(tarballs: readonly string[]): Promise<NpmRegistry> {
  const packages = await Promise.all(
    tarballs.map(async (tarball) => {
      const {stdout} = await promisify(execFile)('tar', ['-xzOf', tarball, 'package/package.json'], {maxBuffer: 1024 * 1024})
      return {manifest: JSON.parse(stdout) as PublishedPackage['manifest'], tarball}
    }),
  )
  return (await new NpmRegistry().listen()).publish(...packages)
}

/** A user's project: an empty directory with a package.json. */
export async function makeProject(dir: string): Promise<void> {
  await mkdir(dir, {recursive: true})
  // The package script users' pipelines run: `npm run synthex -- health check`.
  await writeFile(join(dir, 'package.json'), `${JSON.stringify({name: 'ops', private: true, scripts: {synthex: 'synthex'}, version: '1.0.0'}, null, 2)}\n`)
}

/** `npm install --save-dev <tarball>` from the local registry, with a cache of its own. */
export async function installTarball(dir: string, tarball: string, registry: NpmRegistry): Promise<void> {
  await promisify(execFile)('npm', ['install', '--save-dev', tarball], {cwd: dir, env: userEnv(registryEnv(dir, registry)), timeout: 120_000})
}

export function registryEnv(dir: string, registry: NpmRegistry): Record<string, string> {
  return {npm_config_cache: join(dir, '.npm-cache'), npm_config_registry: registry.url}
}

/** The environment of a user's shell: the machine's, minus npm's variables of the running `npm test` and synthex's settings. */
export function userEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env = cliEnv()
  for (const name of Object.keys(env)) if (/^npm_/i.test(name) || name === 'INIT_CWD') delete env[name]
  Object.assign(env, {npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false'})
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name]
    else env[name] = value
  }

  return env
}

/** Runs a shell script as a user would paste it: bash, stopping at the first failing command. */
export async function shell(script: string, options: {cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number}): Promise<CliResult> {
  // Its own process group, so that a timeout kills npx and synthex too, not only bash.
  const child = spawn('bash', ['-c', `set -eo pipefail\n${script}`], {cwd: options.cwd, detached: true, env: userEnv(options.env), stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
  }, options.timeoutMs ?? 120_000)
  return new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stderr, stdout})
    })
  })
}
