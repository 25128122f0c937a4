import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {parseIsoTime, TIME_RANGE} from '../../cli/credential-flags.js'
import {FlagValueError} from '../../cli/flag-value-error.js'
import {idFlag, integerFlag} from '../../cli/integer-flags.js'
import type {Column} from '../../cli/output.js'
import {describeDurationRange, readDuration} from '../../domain/durations.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {type EventPage, listEvents, type WorkspaceEvent} from '../../services/events/events.js'
import {csvFlag} from '../../cli/common-flags.js'
import {example} from '../../cli/example.js'

/** Lists longer than this are shortened in table cells; `--csv` and `--json` carry them whole. */
const TABLE_LIST_ITEMS = 10

/** Event data for a table cell: JSON, with long lists (an import chunk's thousands of tenant ids) cut short. */
function tableData(value: unknown): unknown {
  if (Array.isArray(value)) {
    const shown = value.slice(0, TABLE_LIST_ITEMS).map((item) => tableData(item))
    return value.length > TABLE_LIST_ITEMS ? [...shown, `... ${value.length - TABLE_LIST_ITEMS} more`] : shown
  }

  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, tableData(item)]))
  }

  return value
}

const TABLE_COLUMNS: ReadonlyArray<Column<WorkspaceEvent>> = [
  {header: 'ID', key: 'id', value: (event) => event.id},
  {header: 'Time', key: 'created_at', value: (event) => event.createdAt},
  {header: 'Event', key: 'type', value: (event) => event.type},
  {header: 'Aggregate', key: 'aggregate', value: (event) => `${event.aggregateType} ${event.aggregateId}`},
  {header: 'Actor', key: 'actor', value: (event) => event.actor},
  {header: 'Source', key: 'source', value: (event) => event.source},
  {header: 'Data', key: 'data', value: (event) => JSON.stringify(tableData(event.data))},
]

const CSV_COLUMNS: ReadonlyArray<Column<WorkspaceEvent>> = [
  {header: 'ID', key: 'id', value: (event) => event.id},
  {header: 'Time', key: 'created_at', value: (event) => event.createdAt},
  {header: 'Workspace', key: 'workspace', value: (event) => event.workspace},
  {header: 'Event', key: 'type', value: (event) => event.type},
  {header: 'Aggregate type', key: 'aggregate_type', value: (event) => event.aggregateType},
  {header: 'Aggregate ID', key: 'aggregate_id', value: (event) => event.aggregateId},
  {header: 'Actor', key: 'actor', value: (event) => event.actor},
  {header: 'Source', key: 'source', value: (event) => event.source},
  {header: 'Data', key: 'data', value: (event) => JSON.stringify(event.data)},
]


/** `--since`: a duration back from now (7d, 24h, 30m) or an ISO-8601 time. */
function sinceFromFlag(value: string, now = new Date()): Date {
  const ago = readDuration(value)
  if (ago.ok) return new Date(now.getTime() - ago.ms)
  if (ago.problem === 'range') throw new FlagValueError('--since', value, `is out of range: give a duration ${describeDurationRange()}, or a date ${TIME_RANGE}`)
  const time = parseIsoTime(value)
  if ('time' in time) return time.time
  if (time.problem === 'range') throw new FlagValueError('--since', value, `is out of range: give a date ${TIME_RANGE}, or a duration ${describeDurationRange()}`)
  throw new FlagValueError('--since', value, 'is not a duration such as 7d, 24h or 30m, nor an ISO-8601 time such as 2025-06-01 or 2025-06-01T12:00:00Z')
}

/** `--type`: an exact event type, or a family of them given as a prefix ending in `.*`. */
function typeFromFlag(value: string): {type?: string; typePrefix?: string} {
  const prefix = value.endsWith('.*') ? value.slice(0, -1) : undefined
  if ((prefix ?? value).includes('*') || value === '' || prefix === '.') {
    throw new SynthexError(`--type: "${value}" is neither an event type such as tenant.created nor a prefix ending in .* such as credential.*.`, {
      code: 'USAGE',
      kind: 'usage',
    })
  }

  return prefix === undefined ? {type: value} : {typePrefix: prefix}
}

export default class EventsList extends BaseCommand<typeof EventsList> {
  static override description = `Lists the audit trail of the workspace: every change synthex made (tenants created, updated, imported, suspended, deleted; credentials set, rotated, revoked, revealed; alerts acknowledged; workspaces, channels, silences), with who made it (SYNTHEX_ACTOR or the OS user), from where, and its data. Events that belong to no workspace (alert channels, silences, encryption key rotation) apply to all of them and are listed in every workspace.

Events come oldest first, like \`tenant tenants history\`, a page at a time (--limit, 100 by default). When there are more, the hint on stderr shows the next command, and the JSON result carries nextCursor (pass it to --after). Filters combine; the cursor works with the same filters.

Tables shorten lists longer than ${TABLE_LIST_ITEMS} items in the data column; --csv and --json carry the data whole. Events never hold a secret.`

  static override examples = [
    example('--since 24h', 'What changed in the default workspace in the last day.'),
    example('--tenant acme-us --type "credential.*"', 'Every credential event of one tenant (set, rotated, revoked, revealed).'),
    example('--actor alice --since 2025-06-01 -w clients --json', 'What alice did in workspace clients since June 1st (UTC), as JSON.'),
    example('--type tenant.deleted --limit 1000 --after 52311 --csv > deleted.csv', 'The next page of tenant deletions, as CSV.'),
  ]

  static override flags = {
    actor: Flags.string({description: 'Only events made by this actor (exact match).', helpValue: '<actor>'}),
    after: idFlag({description: 'Start after this event id (the nextCursor of the previous page).', helpValue: '<id>'}),
    csv: csvFlag('Print CSV (every field, data as JSON) instead of a table.'),
    limit: integerFlag({default: 100, description: 'Events per page.', max: 10_000, min: 1}),
    since: Flags.string({description: 'Only events of the last 7d, 24h, 30m..., or since an ISO-8601 time (2025-06-01 is midnight UTC; 2025-06-01T12:00:00Z).', helpValue: '<duration|time>'}),
    tenant: Flags.string({
      description: 'Only this tenant\'s events in the workspace, deleted tenants too, including the bulk imports that created it (as `tenant tenants history` shows them).',
      helpValue: '<tenant-id>',
    }),
    type: Flags.string({description: 'Only events of this type (tenant.created), or of a family given as a prefix ending in .* (credential.*).', helpValue: '<type>'}),
  }

  static override summary = 'List the audit trail: who changed what, when.'

  async run(): Promise<EventPage> {
    const {actor, after, csv, limit, since, tenant, type} = this.flags
    const query = {
      actor,
      after,
      limit,
      since: since === undefined ? undefined : sinceFromFlag(since),
      tenantId: tenant,
      ...(type === undefined ? {} : typeFromFlag(type)),
    }
    const workspace = await this.workspace()
    const page = await listEvents(await this.db(), workspace, query)
    if (!this.jsonEnabled()) {
      const filtered = Boolean(actor || after !== undefined || since || tenant || type)
      this.output.list(page.events, csv ? CSV_COLUMNS : TABLE_COLUMNS, {csv, empty: filtered ? 'No events match.' : `No events in workspace ${workspace.slug} yet.`})
      if (page.nextCursor !== null) this.output.info(`More events follow: add --after ${page.nextCursor} for the next page.`)
    }

    return page
  }
}
