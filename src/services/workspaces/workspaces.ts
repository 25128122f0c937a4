import * as z from 'zod/mini'

import type {Db, WorkspaceRow} from '../../db/schema.js'
import {ConflictError, InvalidInputError, NotFoundError} from '../../errors/input-errors.js'
import {type Audit, recordEvents} from '../events/events.js'

export interface Workspace {
  readonly createdAt: Date
  readonly id: string
  readonly name: string
  readonly slug: string
}

export interface WorkspaceSummary extends Workspace {
  readonly tenantCount: number
}

const slugSchema = z.string().check(
  z.trim(),
  z.regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {
    error: 'must be 1-63 lower-case letters, digits or "-", starting with a letter or digit',
  }),
)

const nameSchema = z
  .string()
  .check(z.trim(), z.minLength(1, {error: 'must not be empty'}), z.maxLength(200, {error: 'must be at most 200 characters'}))

function toWorkspace(row: WorkspaceRow): Workspace {
  return {createdAt: row.created_at, id: row.id, name: row.name, slug: row.slug}
}

/** The error for a slug no workspace has: it says how to create one. */
export function workspaceNotFound(slug: string): NotFoundError {
  return new NotFoundError(
    `Workspace "${slug}" does not exist.`,
    `Create it with \`synthex tenant workspaces create ${slug}\`, or list them with \`synthex tenant workspaces list\`.`,
    {workspace: slug},
  )
}

/** The workspace with this slug, or a not-found error that says how to create it. */
export async function findWorkspace(db: Db, slug: string): Promise<Workspace> {
  const row = await db.selectFrom('workspaces').selectAll().where('slug', '=', slug).executeTakeFirst()
  if (!row) throw workspaceNotFound(slug)
  return toWorkspace(row)
}

export async function createWorkspace(db: Db, audit: Audit, input: {name?: string; slug: string}): Promise<Workspace> {
  const slug = slugSchema.safeParse(input.slug)
  const name = nameSchema.safeParse(input.name ?? input.slug)
  const issues = [
    ...(slug.success ? [] : [{field: 'slug', message: slug.error.issues[0]?.message ?? 'is invalid'}]),
    ...(name.success ? [] : [{field: 'name', message: name.error.issues[0]?.message ?? 'is invalid'}]),
  ]
  if (!slug.success || !name.success) throw new InvalidInputError(issues)

  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('workspaces')
      .values({name: name.data, slug: slug.data})
      .onConflict((conflict) => conflict.column('slug').doNothing())
      .returningAll()
      .executeTakeFirst()
    if (!row) throw new ConflictError(`Workspace "${slug.data}" already exists.`, undefined, {workspace: slug.data})
    await recordEvents(trx, audit, [
      {aggregateId: row.slug, aggregateType: 'workspace', data: {name: row.name, slug: row.slug}, type: 'workspace.created', workspaceId: row.id},
    ])
    return toWorkspace(row)
  })
}

/** The slugs of these workspaces by id (for showing a reach, which holds ids). */
export async function workspaceSlugs(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map()
  const rows = await db.selectFrom('workspaces').select(['id', 'slug']).where('id', 'in', [...ids]).execute()
  return new Map(rows.map((row) => [row.id, row.slug]))
}

export async function listWorkspaces(db: Db): Promise<WorkspaceSummary[]> {
  const rows = await db
    .selectFrom('workspaces')
    .leftJoin('tenants', 'tenants.workspace_id', 'workspaces.id')
    .selectAll('workspaces')
    .select((eb) => eb.fn.count<number>('tenants.id').as('tenant_count'))
    .groupBy('workspaces.id')
    .orderBy('workspaces.slug')
    .execute()
  return rows.map((row) => ({...toWorkspace(row), tenantCount: Number(row.tenant_count)}))
}
