import {createHash} from 'node:crypto'

import {sql} from 'kysely'

import type {Db} from '../../db/schema.js'

/** How long a key's first answer is kept for replay (Stripe keeps them 24 hours). */
const KEEP_MS = 24 * 60 * 60_000

export type IdempotentStart =
  | {readonly kind: 'conflict'}
  | {readonly kind: 'in-progress'}
  | {readonly kind: 'new'}
  | {readonly kind: 'replay'; readonly response: Record<string, unknown> | null; readonly status: number}

export function requestHash(method: string, path: string, body: string): Buffer {
  return createHash('sha256').update(`${method} ${path}\n${body}`).digest()
}

/**
 * Claims an Idempotency-Key for a request: `new` (go on, then `finishIdempotent`), `replay`
 * (the same key and request was answered: answer the same), `conflict` (the key was used
 * for another request) or `in-progress` (the first request with it has not finished).
 */
export async function startIdempotent(db: Db, apiKeyId: string, key: string, hash: Buffer): Promise<IdempotentStart> {
  const inserted = await db
    .insertInto('idempotency_keys')
    .values({api_key_id: apiKeyId, key, request_hash: hash})
    .onConflict((conflict) => conflict.columns(['api_key_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst()
  if (inserted) return {kind: 'new'}
  const row = await db.selectFrom('idempotency_keys').select(['request_hash', 'status', 'response', 'created_at']).where('api_key_id', '=', apiKeyId).where('key', '=', key).executeTakeFirst()
  // Expired meanwhile, or abandoned by a failed first request: claim it afresh.
  if (!row || Date.now() - row.created_at.getTime() > KEEP_MS) {
    await db.deleteFrom('idempotency_keys').where('api_key_id', '=', apiKeyId).where('key', '=', key).execute()
    return startIdempotent(db, apiKeyId, key, hash)
  }

  if (!Buffer.from(row.request_hash).equals(hash)) return {kind: 'conflict'}
  if (row.status === null) return {kind: 'in-progress'}
  return {kind: 'replay', response: row.response, status: row.status}
}

/** Keeps the first answer for replay, or forgets the key when the request failed on the server's side (it may be retried). */
export async function finishIdempotent(db: Db, apiKeyId: string, key: string, answer: {response: unknown; status: number}): Promise<void> {
  if (answer.status >= 500) {
    await db.deleteFrom('idempotency_keys').where('api_key_id', '=', apiKeyId).where('key', '=', key).execute()
    return
  }

  await db
    .updateTable('idempotency_keys')
    .set({response: JSON.stringify(answer.response), status: answer.status})
    .where('api_key_id', '=', apiKeyId)
    .where('key', '=', key)
    .execute()
  // Old keys go as new ones come: no scheduler needed.
  await db.deleteFrom('idempotency_keys').where('created_at', '<', sql<Date>`now() - ${`${KEEP_MS} milliseconds`}::interval`).execute()
}
