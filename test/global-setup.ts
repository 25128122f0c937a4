import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {PGlite} from '@electric-sql/pglite'
import {Kysely, PostgresDialect} from 'kysely'
import pg from 'pg'
import type {TestProject} from 'vitest/node'

import {migrateToLatest} from '../src/db/migrations.js'
import {PGliteDialect} from '../src/db/pglite-dialect.js'
import {makeTreePrivate} from '../src/db/private-home.js'
import {backendNames} from './helpers/backends.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated PGlite data directory as a tarball: suites start from it instead of running initdb (~5 s) each. */
    pgliteTemplate: string
    /** The same, unpacked: an embedded home's pgdata is a copy of it (a file copy, where unpacking the tarball starts PGlite). */
    pgliteTemplateDir: string
    /** A migrated database on the Postgres server that suites clone (CREATE DATABASE ... TEMPLATE); empty when the server is not in this run. */
    serverTemplate: string
    /** The scratch directory of this test run. */
    scratch: string
    /** `npm pack` of the built package, as users would install it. */
    tarball: string
    /** Its dependencies, packed from node_modules, for a registry on 127.0.0.1 to serve. */
    dependencyTarballs: string[]
  }
}

interface Prepared {
  readonly dependencyTarballs: string[]
  readonly pgliteTemplate: string
  readonly pgliteTemplateDir: string
  readonly serverTemplate: string
  readonly scratch: string
  readonly tarball: string
}

/** Shared by the projects that use this setup (integration, e2e): each loads its own copy of this module. */
const shared = globalThis as {synthexTestSetup?: {prepared: Promise<Prepared>; users: number}}

/**
 * Runs once per `vitest run`, however many projects use it: builds the PGlite template, and
 * checks that the Postgres server named by TEST_DATABASE_URL answers. When it is set and does
 * not, the run fails here, loudly: a suite that silently skipped its server half would be a
 * lie. The scratch directory goes when the last project using it is done.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const state = (shared.synthexTestSetup ??= {prepared: prepare(), users: 0})
  state.users++
  const prepared = await state.prepared
  project.provide('tarball', prepared.tarball)
  project.provide('dependencyTarballs', prepared.dependencyTarballs)
  project.provide('pgliteTemplate', prepared.pgliteTemplate)
  project.provide('pgliteTemplateDir', prepared.pgliteTemplateDir)
  project.provide('scratch', prepared.scratch)
  project.provide('serverTemplate', prepared.serverTemplate)
  return async () => {
    if (--state.users > 0) return
    delete shared.synthexTestSetup
    rmSync(prepared.scratch, {force: true, recursive: true})
    if (prepared.serverTemplate) await dropServerTemplate(prepared.serverTemplate)
  }
}

async function prepare(): Promise<Prepared> {
  const scratch = mkdtempSync(join(tmpdir(), 'synthex-test-'))
  const client = await PGlite.create()
  const db = new Kysely<unknown>({dialect: new PGliteDialect(client)})
  await migrateToLatest(db)
  const dump = await client.dumpDataDir('none')
  await client.close()
  const template = join(scratch, 'pglite-template.tar')
  writeFileSync(template, Buffer.from(await dump.arrayBuffer()))
  const templateDir = join(scratch, 'pglite-template')
  const unpacked = await PGlite.create(templateDir, {loadDataDir: new Blob([readFileSync(template)])})
  await unpacked.close()
  makeTreePrivate(templateDir)

  const serverTemplate = backendNames().includes('postgres') ? await createServerTemplate() : ''
  // Packed once for the suites that install it; without scripts, so `prepare` does not
  // rebuild dist/ under the feet of running tests. Its runtime dependencies are packed from
  // node_modules for the local registry those suites install from.
  const root = fileURLToPath(new URL('..', import.meta.url))
  const pack = (spec: string): string => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', spec, '--ignore-scripts', '--json', '--pack-destination', scratch], {cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})) as Array<{filename: string}>
    if (!packed) throw new Error(`npm pack ${spec} produced no tarball`)
    return join(scratch, packed.filename)
  }

  const {dependencies = {}} = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {dependencies?: Record<string, string>}
  const tarball = pack('.')
  return {dependencyTarballs: Object.keys(dependencies).map((name) => pack(join(root, 'node_modules', name))), pgliteTemplate: template, pgliteTemplateDir: templateDir, scratch, serverTemplate, tarball}
}

/** An admin connection to the server named by TEST_DATABASE_URL. */
async function admin(): Promise<pg.Client> {
  const url = process.env.TEST_DATABASE_URL
  if (!url) throw new Error('TEST_BACKENDS names the server, but TEST_DATABASE_URL is not set: give it the URL of a Postgres server the tests may create databases on.')
  const client = new pg.Client({connectionString: url, connectionTimeoutMillis: 5000})
  try {
    await client.connect()
    await client.query('select 1')
  } catch (error) {
    await client.end().catch(() => {})
    throw new Error(`TEST_DATABASE_URL is set but the server does not answer: ${(error as Error).message}`, {cause: error})
  }

  return client
}

/**
 * A database on the server migrated once, for suites to clone: a copy is a file copy on the
 * server (tens of milliseconds), where migrating each suite's database costs a second or
 * more. Nothing stays connected to it, as CREATE DATABASE ... TEMPLATE requires.
 */
async function createServerTemplate(): Promise<string> {
  const name = `synthex_template_${process.pid}_${randomBytes(4).toString('hex')}`
  const client = await admin()
  try {
    await client.query(`create database ${name}`)
  } finally {
    await client.end()
  }

  const url = new URL(process.env.TEST_DATABASE_URL as string)
  url.pathname = `/${name}`
  const template = new Kysely<unknown>({dialect: new PostgresDialect({pool: new pg.Pool({connectionString: url.toString(), max: 1})})})
  try {
    await migrateToLatest(template)
  } finally {
    await template.destroy()
  }

  return name
}

async function dropServerTemplate(name: string): Promise<void> {
  const client = await admin()
  try {
    await client.query(`drop database if exists ${name} with (force)`)
  } finally {
    await client.end()
  }
}
