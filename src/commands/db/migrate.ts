import {BaseCommand} from '../../cli/base-command.js'
import {migrateToLatest} from '../../db/migrations.js'
import {example} from '../../cli/example.js'

export interface MigrateResult {
  readonly applied: string[]
  readonly backend: 'embedded' | 'server'
  readonly location: string
}

export default class DbMigrate extends BaseCommand<typeof DbMigrate> {
  static override databaseMigrations = 'ignore' as const
  // A migration may build an index over every tenant.
  static override databaseStatements = 'bulk' as const
  static override description = `Applies, in order, every migration this version of synthex has and the database lacks. Each runs in its own transaction under a Postgres advisory lock, so concurrent runs (two deploys at once) apply each migration exactly once.

The embedded database migrates itself on first use; on a server database (DATABASE_URL) this is the only command that changes the schema, and every other command refuses to run until it is up to date.`

  static override examples = [
    example('', 'Bring the embedded database up to date.'),
    {command: 'DATABASE_URL=postgres://synthex@db.internal:5432/synthex <%= config.bin %> <%= command.id %>', description: 'Migrate a Postgres server (a deploy step).'},
    example('--json', 'Report the migrations applied as JSON.'),
  ]

  static override summary = 'Bring the database schema up to date.'

  async run(): Promise<MigrateResult> {
    const database = await this.database()
    const spinner = this.spin(`Migrating ${database.location}...`)
    const applied = await migrateToLatest(database.db)
    spinner.stop()
    if (applied.length === 0) this.output.success(`The database at ${database.location} is up to date.`)
    else for (const name of applied) this.output.success(`Applied ${name}`)
    return {applied, backend: database.backend, location: database.location}
  }
}
