import type {Readable} from 'node:stream'

import {sql} from 'kysely'

import {DatabaseUnavailableError} from '../../db/database-errors.js'
import type {Db, TenantRow, TenantStatus} from '../../db/schema.js'
import {parseTenantFields, pickTenantFields, TENANT_FIELD_SPECS, TENANT_FIELDS, type TenantField, type TenantFields} from '../../domain/tenant-fields.js'
import type {FieldIssue} from '../../errors/input-errors.js'
import {type Audit, type NewEvent, recordEvents} from '../events/events.js'
import {type FieldChanges, STATUS_EVENTS} from '../tenants/tenants.js'
import type {Workspace} from '../workspaces/workspaces.js'
import {type CsvColumn, type CsvRow, openCsv, TENANT_CSV} from './tenant-csv.js'
import {type Rejection, rejectionOf} from './tenant-row.js'
import {batchOutcome, type BatchOptions, type BatchOutcome, completeBatch, Rejections, startSingleTransaction} from './batch-run.js'

/**
 * `batch tenants update|set-status|delete --from-csv`: changes to existing tenants named in
 * a CSV, a chunk per transaction, with what the tenant import has: rows checked line by
 * line, every problem of a row at once, a reject file, `--atomic` and `--dry-run` as one
 * transaction rolled back. A tenant the file names that does not exist is a rejected row.
 *
 * The file is the import's format (an export of `tenant tenants list --csv` works as it is):
 * only tenant_id is required. `update` changes the fields whose columns the file has, a
 * blank cell meaning "none" as in the import, and validates each tenant as a whole;
 * `set-status` and `delete` use only tenant_id (and workspace), whatever else is there.
 */

export type TenantChange = {readonly kind: 'delete'} | {readonly kind: 'status'; readonly status: TenantStatus} | {readonly kind: 'update'}

export interface ChangeCounts {
  /** Tenants updated, whose status changed, or deleted. */
  changed: number
  read: number
  rejected: number
  /** Tenants that already were as the file says. */
  unchanged: number
}

export interface ChangeResult extends Readonly<ChangeCounts>, BatchOutcome {}

export interface ChangeOptions extends BatchOptions {
  readonly onProgress?: (counts: Readonly<ChangeCounts>) => void
  /** Where the rows came from, recorded in the audit trail. */
  readonly source: string
}

interface Named {
  readonly line: number
  readonly raw: readonly string[]
  readonly tenantId: string
  readonly values: Partial<Record<CsvColumn, string>>
  readonly workspace: Workspace
}

const DEFAULT_CHUNK_SIZE = 500

export async function changeTenantsFromCsv(db: Db, audit: Audit, input: Readable, change: TenantChange, options: ChangeOptions): Promise<ChangeResult> {
  const started = performance.now()
  const csv = await openCsv(input, {...TENANT_CSV, required: ['tenant_id']}, {ignoreUnknownColumns: options.ignoreUnknownColumns})
  options.onHeader?.(csv.header)
  const fields = change.kind === 'update' ? TENANT_FIELDS.filter((field) => field !== 'tenant_id' && csv.columns.has(field)) : []
  const workspaces = new Map((await db.selectFrom('workspaces').selectAll().execute()).map((row) => [row.slug, {createdAt: row.created_at, id: row.id, name: row.name, slug: row.slug}]))
  const counts: ChangeCounts = {changed: 0, read: 0, rejected: 0, unchanged: 0}
  const rejections = new Rejections(counts, options.onRejected)
  const reject = (rejection: Rejection): Promise<void> | void => rejections.add(rejection)

  const single = await startSingleTransaction(db, options)
  const seen = new Map<string, number>()
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  let chunk: Named[] = []
  const write = async (rows: Named[]): Promise<void> => {
    const work = (trx: Db) => applyChunk(trx, audit, rows, change, fields, options.source)
    const outcome = single ? await work(single) : await db.transaction().execute(work)
    counts.changed += outcome.changed
    counts.unchanged += outcome.unchanged
    for (const rejection of outcome.rejected) await reject(rejection)
    options.onProgress?.(counts)
  }

  try {
    for await (const batch of csv.rows) {
      for (const row of batch) {
        counts.read++
        const named = nameOf(row, workspaces, options.workspace)
        if ('rejection' in named) {
          await reject(named.rejection)
          continue
        }

        const key = `${named.workspace.id}\u0000${named.tenantId}`
        const first = seen.get(key)
        if (first !== undefined) {
          await reject({column: 'tenant_id', line: row.line, raw: row.raw, reason: `tenant_id: "${named.tenantId}" is a duplicate of line ${first}`})
          continue
        }

        seen.set(key, row.line)
        chunk.push(named)
        if (chunk.length >= chunkSize) {
          const rows = chunk
          chunk = []
          await write(rows)
        }
      }

      options.onProgress?.(counts)
    }

    if (chunk.length > 0) await write(chunk)
  } catch (error) {
    await single?.rollback().execute().catch(() => {})
    if (error instanceof DatabaseUnavailableError && !single) {
      throw new DatabaseUnavailableError(`${error.message} The run stopped: ${counts.changed.toLocaleString('en-US')} tenants had been changed and committed, in whole chunks, and are kept.`, {
        cause: error,
        details: {kept: counts.changed},
        hint: 'When the database is back, run the same command again: tenants already as the file says are left unchanged.',
      })
    }

    throw error
  }

  const batch = change.kind === 'update' ? 'tenants update' : change.kind === 'status' ? 'tenants set-status' : 'tenants delete'
  const committed = await completeBatch(db, single, options, counts.rejected, {batch, counts: {...counts}, source: options.source})
  return {...counts, ...batchOutcome(options, committed, started, csv.ignored, rejections)}
}

function nameOf(row: CsvRow, workspaces: ReadonlyMap<string, Workspace>, fallback: Workspace): Named | {rejection: Rejection} {
  if (row.problem) return {rejection: {column: row.problem.column, line: row.line, raw: row.raw, reason: row.problem.reason}}
  const issues: FieldIssue[] = []
  const id = TENANT_FIELD_SPECS.tenant_id.schema.safeParse(row.values.tenant_id)
  if (!id.success) issues.push({field: 'tenant_id', message: id.error.issues[0]?.message ?? 'is invalid'})
  const slug = row.values.workspace?.trim()
  const workspace = slug ? workspaces.get(slug) : fallback
  if (!workspace) issues.push({field: 'workspace', message: `workspace "${slug}" does not exist`})
  if (issues.length > 0 || !workspace || !id.success) return {rejection: rejectionOf(row.line, row.raw, issues)}
  return {line: row.line, raw: row.raw, tenantId: id.data as string, values: row.values, workspace}
}

async function applyChunk(trx: Db, audit: Audit, rows: readonly Named[], change: TenantChange, fields: readonly TenantField[], source: string) {
  const {rows: found} = await sql<TenantRow>`
    select tenants.* from tenants
    join unnest(${rows.map((row) => row.workspace.id)}::uuid[], ${rows.map((row) => row.tenantId)}::text[]) as wanted(workspace_id, tenant_id)
      using (workspace_id, tenant_id)
    order by tenants.id for update of tenants`.execute(trx)
  const byKey = new Map(found.map((row) => [`${row.workspace_id}\u0000${row.tenant_id}`, row]))
  const rejected: Rejection[] = []
  const events: NewEvent[] = []
  const touched: string[] = []
  let unchanged = 0
  const updates: Array<{fields: TenantFields; id: string}> = []
  for (const row of rows) {
    const current = byKey.get(`${row.workspace.id}\u0000${row.tenantId}`)
    if (!current) {
      rejected.push({column: 'tenant_id', line: row.line, raw: row.raw, reason: `tenant_id: tenant "${row.tenantId}" does not exist in workspace "${row.workspace.slug}"`})
      continue
    }

    const base = {aggregateId: row.tenantId, aggregateType: 'tenant', workspaceId: row.workspace.id}
    const batch = {batch: {file: source, line: row.line}}
    if (change.kind === 'delete') {
      touched.push(current.id)
      events.push({...base, data: {fields: pickTenantFields(current), id: current.id, ...batch}, type: 'tenant.deleted'})
      continue
    }

    if (change.kind === 'status') {
      if (current.status === change.status) unchanged++
      else {
        touched.push(current.id)
        events.push({...base, data: {changes: {status: {from: current.status, to: change.status}}, ...batch}, type: STATUS_EVENTS[change.status]})
      }

      continue
    }

    const before = pickTenantFields(current)
    const patch = Object.fromEntries(fields.map((field) => [field, row.values[field] ?? null]))
    const merged = parseTenantFields({...before, ...patch})
    if (!merged.ok) {
      rejected.push(rejectionOf(row.line, row.raw, merged.issues))
      continue
    }

    const changes: FieldChanges = {}
    for (const field of TENANT_FIELDS) if (merged.value[field] !== before[field]) changes[field] = {from: before[field], to: merged.value[field]}
    if (Object.keys(changes).length === 0) {
      unchanged++
      continue
    }

    updates.push({fields: merged.value, id: current.id})
    events.push({...base, data: {changes, ...batch}, type: 'tenant.updated'})
  }

  if (change.kind === 'delete' && touched.length > 0) await sql`delete from tenants where id = any(${touched}::uuid[])`.execute(trx)
  if (change.kind === 'status' && touched.length > 0) await sql`update tenants set status = ${change.status}, updated_at = now() where id = any(${touched}::uuid[])`.execute(trx)
  if (updates.length > 0) {
    const set = sql.join(TENANT_FIELDS.map((field) => sql`${sql.ref(field)} = changed.${sql.ref(field)}`))
    await sql`
      update tenants set ${set}, updated_at = now()
      from unnest(${updates.map((update) => update.id)}::uuid[], ${sql.join(TENANT_FIELDS.map((field) => sql`${updates.map((update) => update.fields[field])}::text[]`))})
        as changed(id, ${sql.join(TENANT_FIELDS.map((field) => sql.ref(field)))})
      where tenants.id = changed.id`.execute(trx)
  }

  await recordEvents(trx, audit, events)
  return {changed: touched.length + updates.length, rejected, unchanged}
}
