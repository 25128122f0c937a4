import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'

/**
 * Usage analytics: every command run against the database (recorded by the
 * `command_finished` hook) and `usage report`'s figures per command.
 */

export interface CommandRun {
  readonly actor: string
  readonly command: string
  readonly durationMs: number
  readonly errorClass: null | string
  readonly exitCode: number
  /** Flag names only, never their values (a value may be a secret or a customer's data). */
  readonly flags: readonly string[]
  readonly startedAt: Date
}

export async function recordCommandRun(db: Db, run: CommandRun): Promise<void> {
  // Bounded on the server too: a locked or slow table must not keep the command's
  // connection (and so the command) waiting after it is done.
  await db.transaction().execute(async (trx) => {
    // SET LOCAL of both, in one round trip.
    await sql`select set_config('lock_timeout', '1s', true), set_config('statement_timeout', '2s', true)`.execute(trx)
    await insertRun(trx, run)
  })
}

async function insertRun(db: Db, run: CommandRun): Promise<void> {
  await db
    .insertInto('command_runs')
    .values({
      actor: run.actor,
      command: run.command,
      duration_ms: run.durationMs,
      error_class: run.errorClass,
      exit_code: run.exitCode,
      flags: sql<string[]>`${[...run.flags]}::text[]`,
      started_at: run.startedAt,
    })
    .execute()
}

/** `--name=value` and `--name value` both give `--name`; arguments and values are dropped. */
export function flagNames(argv: readonly string[]): string[] {
  const names = new Set<string>()
  for (const token of argv) {
    if (token === '--') break
    const match = /^(--?[A-Za-z][\w-]*)/.exec(token)
    if (match?.[1]) names.add(match[1])
  }

  return [...names].sort()
}

export interface CommandUsage {
  readonly averageMs: number
  readonly command: string
  readonly errorRate: number
  readonly errors: number
  readonly lastRunAt: Date
  readonly p95Ms: number
  readonly runs: number
}

export interface UsageReport {
  readonly commands: CommandUsage[]
  readonly since: Date
  readonly totals: Omit<CommandUsage, 'command' | 'lastRunAt'>
}

export async function usageReport(db: Db, since: Date): Promise<UsageReport> {
  const {rows} = await sql<{avg_ms: number; command: null | string; errors: number; last_run_at: Date; p95_ms: number; runs: number}>`
    select command, count(*)::int as runs, count(*) filter (where exit_code <> 0)::int as errors,
           avg(duration_ms) as avg_ms, percentile_cont(0.95) within group (order by duration_ms) as p95_ms,
           max(started_at) as last_run_at
    from command_runs where started_at >= ${since}
    group by rollup (command)
    order by command nulls last`.execute(db)
  const shape = (row: (typeof rows)[number]) => ({
    averageMs: Math.round(Number(row.avg_ms ?? 0) * 10) / 10,
    errorRate: Number(row.runs) === 0 ? 0 : Math.round((Number(row.errors) / Number(row.runs)) * 10_000) / 10_000,
    errors: Number(row.errors),
    p95Ms: Math.round(Number(row.p95_ms ?? 0) * 10) / 10,
    runs: Number(row.runs),
  })
  const total = rows.find((row) => row.command === null)
  return {
    commands: rows.filter((row) => row.command !== null).map((row) => ({command: row.command as string, lastRunAt: new Date(row.last_run_at), ...shape(row)})),
    since,
    totals: total ? shape(total) : {averageMs: 0, errorRate: 0, errors: 0, p95Ms: 0, runs: 0},
  }
}
