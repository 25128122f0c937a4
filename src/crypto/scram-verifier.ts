import {createHash, createHmac, pbkdf2Sync, randomBytes} from 'node:crypto'

/**
 * A Postgres SCRAM-SHA-256 password verifier (RFC 5802, RFC 7677), computed here so that the
 * password itself never reaches the server: `ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'`
 * stores the verifier as given, as psql's `\password` does, and the plain password can then
 * appear in no server log (`log_statement`) and no `pg_stat_statements`. The format is
 * Postgres's: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64.
 *
 * Postgres and its clients normalise a password with SASLprep before hashing; printable
 * ASCII is left as it is, which is why `loginPasswordProblem`
 * (src/services/access/database-login.ts) accepts nothing else.
 */

/** Postgres's default (scram_iterations). */
const ITERATIONS = 4096
const SALT_BYTES = 16

export function scramSha256Verifier(password: string, options: {iterations?: number; salt?: Buffer} = {}): string {
  const iterations = options.iterations ?? ITERATIONS
  const salt = options.salt ?? randomBytes(SALT_BYTES)
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256')
  const clientKey = createHmac('sha256', salted).update('Client Key').digest()
  const storedKey = createHash('sha256').update(clientKey).digest()
  const serverKey = createHmac('sha256', salted).update('Server Key').digest()
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`
}
