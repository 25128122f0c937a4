import type {FieldIssue} from '../../errors/input-errors.js'
import {parseTenantFields, type TenantFields} from '../../domain/tenant-fields.js'
import type {CsvRow} from './tenant-csv.js'

/**
 * One row of a tenant CSV, checked: the tenant it describes and its workspace, or why it is
 * rejected. Pure: the workspaces are looked up by the caller's resolver (read before the
 * first row). Duplicates are the caller's to find, as they span rows and chunks.
 */

export interface Rejection {
  readonly column: string | null
  readonly line: number
  /** The row's fields as they were in the file. */
  readonly raw: readonly string[]
  readonly reason: string
}

export type ResolvedWorkspace = {readonly id: string; readonly ok: true; readonly slug: string} | {readonly ok: false; readonly reason: string}

export type CheckedRow = {readonly fields: TenantFields; readonly ok: true; readonly workspaceId: string} | {readonly ok: false; readonly rejection: Rejection}

/** Every problem of the row at once, the first one's column as the rejection's column. */
export function checkTenantRow(row: CsvRow, workspaceOf: (slug: string | undefined) => ResolvedWorkspace): CheckedRow {
  if (row.problem) return {ok: false, rejection: {column: row.problem.column, line: row.line, raw: row.raw, reason: row.problem.reason}}
  const parsed = parseTenantFields(row.values)
  const workspace = workspaceOf(row.values.workspace)
  const issues: FieldIssue[] = parsed.ok ? [] : [...parsed.issues]
  if (!workspace.ok) issues.push({field: 'workspace', message: workspace.reason})
  if (issues.length > 0 || !parsed.ok || !workspace.ok) return {ok: false, rejection: rejectionOf(row.line, row.raw, issues)}
  return {fields: parsed.value, ok: true, workspaceId: workspace.id}
}

export function rejectionOf(line: number, raw: readonly string[], issues: readonly FieldIssue[]): Rejection {
  return {
    column: issues[0]?.field ?? null,
    line,
    raw,
    reason: issues.map((issue) => `${issue.field}: ${issue.message}`).join('; '),
  }
}

export function duplicateOf(line: number, raw: readonly string[], tenantId: string, firstLine: number): Rejection {
  return {column: 'tenant_id', line, raw, reason: `tenant_id: "${tenantId}" is a duplicate of line ${firstLine}`}
}
