import {execFile} from 'node:child_process'
import {mkdir, mkdtemp, readdir, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

import {afterAll, beforeAll, expect, inject, it} from 'vitest'

import {createServerDatabase, describeOnEmbedded, describeOnServer} from '../helpers/backends.js'
import type {NpmRegistry} from '../fakes/npm-registry.js'
import {installTarball, makeProject, shell, startRegistry} from '../helpers/installed-package.js'

const tarball = inject('tarball')
let registry: NpmRegistry
beforeAll(async () => {
  registry = await startRegistry(inject('dependencyTarballs'))
})
afterAll(async () => registry.close())

/** The lines users' pipelines run today (the public command-line contract), verbatim. */
const CONTRACT_LINES = [
  'npx synthex tenant tenants list',
  'npx synthex batch tenants create --from-csv tenants/new-tenants.csv',
  'npx synthex health check',
  'npx synthex alerts check-now',
  'npm run synthex -- health check',
]

const NEW_TENANTS = 'tenant_id,name,type,shopify_shop,gmc_merchant_id,market\nnorth,North,shopify,north.myshopify.com,,SE\nsouth,South,google_merchant,,1234567,ES\n'

async function project(): Promise<string> {
  const dir = await mkdtemp(join(inject('scratch'), 'project-'))
  await makeProject(dir)
  await installTarball(dir, tarball, registry)
  await mkdir(join(dir, 'tenants'))
  await writeFile(join(dir, 'tenants', 'new-tenants.csv'), NEW_TENANTS)
  return dir
}

describeOnEmbedded('the npm package', () => {
  it('holds only what runs: bin, dist, migrations, the manifest, README and LICENSE', async () => {
    const {stdout} = await promisify(execFile)('tar', ['-tzf', tarball])
    const files = stdout.trim().split('\n').map((path) => path.replace(/^package\//, ''))
    const outside = files.filter((path) => !/^(bin\/run\.js|dist\/.+\.js|migrations\/\d{4}_[a-z0-9_]+\.sql|oclif\.manifest\.json|README\.md|LICENSE|package\.json)$/.test(path))
    expect(outside).toEqual([])
    expect(files).toEqual(expect.arrayContaining(['bin/run.js', 'dist/run.js', 'oclif.manifest.json', 'README.md', 'LICENSE', 'migrations/0001_workspaces_tenants_events.sql']))
    expect(files.some((path) => path.endsWith('.map') || path.startsWith('src/') || path.startsWith('test/'))).toBe(false)
    const {size} = await stat(tarball)
    expect(size).toBeLessThan(1024 * 1024)
  })

  it('installs into an empty project with PGlite as its only dependency and runs the contract lines on the embedded database', {timeout: 300_000}, async () => {
    const dir = await project()
    expect((await readdir(join(dir, 'node_modules'))).filter((name) => !name.startsWith('.')).sort()).toEqual(['@electric-sql', 'synthex'])
    const env = {SYNTHEX_HOME: join(dir, '.synthex')}
    for (const line of CONTRACT_LINES) {
      const result = await shell(line, {cwd: dir, env})
      expect(result.code, `${line}\n${result.stderr}`).toBe(0)
    }

    const listed = await shell('npx synthex tenant tenants list --json', {cwd: dir, env})
    expect((JSON.parse(listed.stdout) as {tenants: Array<{tenantId: string}>}).tenants.map((tenant) => tenant.tenantId)).toEqual(['north', 'south'])
  })
})

describeOnServer('the npm package on a Postgres server', () => {
  let url = ''
  let drop: () => Promise<void> = async () => {}
  beforeAll(async () => {
    ;({drop, url} = await createServerDatabase())
  })
  afterAll(async () => drop())

  it('runs the contract lines once `db migrate` has created the schema', {timeout: 300_000}, async () => {
    const dir = await project()
    const env = {DATABASE_URL: url, SYNTHEX_HOME: join(dir, 'unused-home')}
    const refused = await shell(CONTRACT_LINES[0] as string, {cwd: dir, env})
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('synthex db migrate')
    expect((await shell('npx synthex db migrate', {cwd: dir, env})).code).toBe(0)
    for (const line of CONTRACT_LINES) {
      const result = await shell(line, {cwd: dir, env})
      expect(result.code, `${line}\n${result.stderr}`).toBe(0)
    }

    const listed = await shell('npx synthex tenant tenants list --json', {cwd: dir, env})
    expect((JSON.parse(listed.stdout) as {tenants: Array<{tenantId: string}>}).tenants.map((tenant) => tenant.tenantId)).toEqual(['north', 'south'])
    await expect(stat(join(dir, 'unused-home'))).rejects.toThrow()
  })
})
