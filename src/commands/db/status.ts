import {BaseCommand} from '../../cli/base-command.js'
import {readLockHolder} from '../../db/embedded-lock.js'
import {migrationStatus} from '../../db/migrations.js'
import {example} from '../../cli/example.js'

export interface StatusResult {
  readonly backend: 'embedded' | 'server'
  readonly location: string
  readonly migrations: Array<{appliedAt: Date | null; name: string; state: 'applied' | 'pending' | 'unknown'}>
  readonly pending: number
  /** The shared embedded database server this command went through (`db start`), if any. */
  readonly server: {pid: number; since: string} | null
}

export default class DbStatus extends BaseCommand<typeof DbStatus> {
  static override databaseMigrations = 'ignore' as const
  static override description =
    'Lists every migration with its state: applied (and when), pending (run `synthex db migrate`), or unknown (applied by a newer synthex than this one). Also shows which database synthex is using, with any password left out, and for the embedded database whether commands share it through a server (`synthex db start`) or each opens it in turn.'

  static override examples = [
    example('', 'Which database am I on, and is it up to date?'),
    example('--json | jq .pending', 'Count pending migrations in a script.'),
  ]

  static override summary = 'Show the database in use and its migrations.'

  async run(): Promise<StatusResult> {
    const database = await this.database()
    const states = await migrationStatus(database.db)
    const migrations = states.map((state) => ({
      appliedAt: state.appliedAt,
      name: state.name,
      state: state.unknown ? ('unknown' as const) : state.appliedAt ? ('applied' as const) : ('pending' as const),
    }))
    const pending = migrations.filter((migration) => migration.state === 'pending').length
    const target = this.settings.database
    const holder = database.shared && target.kind === 'embedded' ? readLockHolder(target.dataDir) : undefined
    const server = holder ? {pid: holder.pid, since: holder.startedAt} : null
    if (!this.jsonEnabled()) {
      this.output.record([
        ['Database', `${database.location} (${database.backend})`],
        ...(database.backend === 'embedded'
          ? [['Server', server ? `shared by a server (pid ${server.pid}, since ${server.since}); stop it with \`synthex db stop\`` : 'none: each command opens the database in turn (`synthex db start` shares it)'] as const]
          : []),
        ['Pending', pending],
      ])
      this.output.info('')
      this.output.table(migrations, [
        {header: 'Migration', key: 'name', value: (migration) => migration.name},
        {header: 'State', key: 'state', value: (migration) => migration.state},
        {header: 'Applied at', key: 'applied_at', value: (migration) => migration.appliedAt},
      ])
    }

    return {backend: database.backend, location: database.location, migrations, pending, server}
  }
}
