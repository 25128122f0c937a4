import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {type Kysely, type Migration, type MigrationProvider, Migrator, sql} from 'kysely'

import {SynthexError} from '../errors/synthex-error.js'

/** One `migrations/NNNN_name.sql` file in dbmate's format. */
export interface MigrationFile {
  readonly down: string | undefined
  readonly name: string
  readonly up: string
}

export interface MigrationState {
  readonly appliedAt: Date | null
  readonly name: string
  /** Applied to the database but unknown to this version of synthex (a newer one ran). */
  readonly unknown: boolean
}

/** Migrations run before (and regardless of) the typed schema, as Kysely's own Migrator does. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyKysely = Kysely<any>

const FILE_NAME = /^(\d{4,})_[a-z0-9_]+\.sql$/
const UP = /^--\s*migrate:up\b.*$/m
const DOWN = /^--\s*migrate:down\b.*$/m
/** Kysely's bookkeeping of applied migrations (its Migrator's default name), read by every command's pending check. */
export const MIGRATION_TABLE = 'kysely_migration'

let cachedDirectory: string | undefined

/**
 * Finds `migrations/` beside the package's `package.json`, from wherever this module was
 * loaded: `src/db/` in tests, a bundled chunk under `dist/` in the build, or an installed
 * copy under `node_modules/synthex/`.
 */
export function migrationsDirectory(): string {
  if (cachedDirectory) return cachedDirectory
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'migrations'))) {
      cachedDirectory = join(dir, 'migrations')
      return cachedDirectory
    }

    const parent = dirname(dir)
    if (parent === dir) throw new Error('synthex is installed without its migrations/ directory')
    dir = parent
  }
}

/** Reads and checks every migration file, in order. A malformed file is a packaging bug. */
export function readMigrationFiles(directory = migrationsDirectory()): MigrationFile[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      if (!FILE_NAME.test(file)) throw new Error(`migration file name ${file} is not NNNN_snake_case.sql`)
      const text = readFileSync(join(directory, file), 'utf8')
      const up = UP.exec(text)
      if (!up) throw new Error(`migration ${file} has no "-- migrate:up" section`)
      const down = DOWN.exec(text)
      const upEnd = down && down.index > up.index ? down.index : text.length
      return {
        down: down ? text.slice(down.index + down[0].length).trim() : undefined,
        name: file.slice(0, -'.sql'.length),
        up: text.slice(up.index + up[0].length, upEnd).trim(),
      }
    })
}

/** Feeds SQL files to Kysely's Migrator, which brings the locking and bookkeeping. */
export class SqlFileMigrationProvider implements MigrationProvider {
  constructor(private readonly files: readonly MigrationFile[] = readMigrationFiles()) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(
      this.files.map((file): [string, Migration] => [
        file.name,
        {
          down: file.down === undefined ? undefined : async (db) => void (await sql.raw(file.down as string).execute(db)),
          up: async (db) => void (await sql.raw(file.up).execute(db)),
        },
      ]),
    )
  }
}

/** Names and times of the migrations the database has applied; none on a fresh database. */
export async function appliedMigrations(db: AnyKysely): Promise<Map<string, Date>> {
  try {
    const {rows} = await sql<{name: string; timestamp: Date | string}>`select name, timestamp from ${sql.table(MIGRATION_TABLE)} order by name`.execute(db)
    return new Map(rows.map((row) => [row.name, new Date(row.timestamp)]))
  } catch (error) {
    if ((error as {code?: string}).code === '42P01') return new Map()
    throw error
  }
}

/**
 * The names of the migrations this version of synthex has, in order, from the file names
 * alone: every command checks for pending migrations, and needs no SQL for that.
 */
export function migrationNames(directory = migrationsDirectory()): string[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      if (!FILE_NAME.test(file)) throw new Error(`migration file name ${file} is not NNNN_snake_case.sql`)
      return file.slice(0, -'.sql'.length)
    })
}

/** The migrations this version of synthex has and the database lacks, in order. */
export async function pendingMigrations(db: AnyKysely, names = migrationNames()): Promise<string[]> {
  const applied = await appliedMigrations(db)
  return names.filter((name) => !applied.has(name))
}

/** Every migration known to either side, with when it was applied. */
export async function migrationStatus(db: AnyKysely, files = readMigrationFiles()): Promise<MigrationState[]> {
  const applied = await appliedMigrations(db)
  const known = new Set(files.map((file) => file.name))
  const names = [...new Set([...known, ...applied.keys()])].sort()
  return names.map((name) => ({appliedAt: applied.get(name) ?? null, name, unknown: !known.has(name)}))
}

/**
 * Applies every pending migration, each in its own transaction, under Kysely's migration
 * lock (a Postgres advisory lock), so concurrent `db migrate` runs apply each one once.
 * Returns the names applied by this call.
 */
export async function migrateToLatest(db: AnyKysely, files = readMigrationFiles()): Promise<string[]> {
  const migrator = new Migrator({db, provider: new SqlFileMigrationProvider(files)})
  const {error, results = []} = await migrator.migrateToLatest()
  if (error) {
    const failed = results.find((result) => result.status === 'Error')?.migrationName
    const reason = error instanceof Error ? error.message : String(error)
    throw new SynthexError(failed ? `Migration ${failed} failed: ${reason}` : `Migrating the database failed: ${reason}`, {
      cause: error,
      code: 'MIGRATION_FAILED',
      details: failed ? {migration: failed} : undefined,
      hint: 'Nothing from the failed migration was kept (it ran in a transaction); fix the cause and run `synthex db migrate` again.',
    })
  }

  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName)
}
