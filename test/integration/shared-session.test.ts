import {mkdtempSync, statSync} from 'node:fs'
import {connect} from 'node:net'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {PGlite} from '@electric-sql/pglite'
import pg from 'pg'
import copyStreams from 'pg-copy-streams'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {inject} from 'vitest'

import {type EmbeddedServer, startEmbeddedServer} from '../../src/db/embedded-server.js'
import {embeddedSocketDir, embeddedSocketPath} from '../../src/db/embedded-socket.js'
import {syncMessage} from '../../src/db/wire-protocol.js'

/**
 * The shared embedded server's multiplexer (src/db/shared-session.ts) against real `pg`
 * clients: one PGlite session, many connections, and the guarantees a Postgres server gives
 * them that one session does not give by itself.
 */
describe('one embedded database shared by many connections', () => {
  let db: PGlite
  let server: EmbeddedServer
  let home: string
  const clients: pg.Client[] = []
  const client = async (): Promise<pg.Client> => {
    const made = new pg.Client({database: 'postgres', host: embeddedSocketDir(home), user: 'postgres'})
    made.on('error', () => {})
    await made.connect()
    clients.push(made)
    return made
  }

  beforeAll(async () => {
    home = mkdtempSync(join(inject('scratch'), 'shared-'))
    db = await PGlite.create()
    await db.exec('create table t (id int primary key, note text)')
    server = await startEmbeddedServer(db, home, {idleInTransactionMs: 1500, idleTimeoutMs: 0})
  })

  afterAll(async () => {
    await Promise.all(clients.map((made) => made.end().catch(() => {})))
    await server.stop(0)
    await db.close()
  })

  it('listens on a socket only its owner can open, named as Postgres names its own', () => {
    expect(statSync(embeddedSocketPath(home)).mode & 0o777).toBe(0o600)
    expect(statSync(embeddedSocketDir(home)).mode & 0o777).toBe(0o700)
    expect(embeddedSocketPath(home).endsWith('/run/.s.PGSQL.5432')).toBe(true)
  })

  it('never lets one client\'s transaction interleave with another\'s: the second waits for the commit', async () => {
    const [a, b] = [await client(), await client()]
    await a.query('begin')
    await a.query('insert into t values (1, $1)', ['from a'])
    const seen: string[] = []
    const reading = b.query('select count(*)::int as n from t where id = 1').then((result) => seen.push(`b saw ${result.rows[0].n}`))
    await new Promise((resolve) => setTimeout(resolve, 100))
    seen.push('a commits')
    await a.query('commit')
    await reading
    expect(seen).toEqual(['a commits', 'b saw 1'])
  })

  it('runs each extended-protocol exchange whole: another client\'s statement cannot replace its unnamed one', async () => {
    const other = await client()
    // A raw connection that sends Parse and Bind, then lets another client run a query
    // (which would replace the session's unnamed statement), then sends Execute and Sync.
    const raw = connect(embeddedSocketPath(home))
    const answers: Buffer[] = []
    raw.on('data', (chunk: Buffer) => answers.push(chunk))
    await new Promise((resolve) => raw.once('connect', resolve))
    const {serialize} = await import('pg-protocol')
    raw.write(serialize.startup({database: 'postgres', user: 'postgres'}))
    await new Promise((resolve) => setTimeout(resolve, 100))
    raw.write(Buffer.concat([serialize.parse({text: "select 'mine' as who"}), serialize.bind({})]))
    expect((await other.query("select 'theirs' as who, $1::int as n", [7])).rows).toEqual([{n: 7, who: 'theirs'}])
    raw.write(Buffer.concat([serialize.execute({}), syncMessage()]))
    await new Promise((resolve) => setTimeout(resolve, 200))
    raw.destroy()
    expect(Buffer.concat(answers).toString('latin1')).toContain('mine')
    expect(Buffer.concat(answers).toString('latin1')).not.toContain('theirs')
  })

  it('rolls back the transaction of a client that goes away, and the others go on at once', async () => {
    const [doomed, survivor] = [await client(), await client()]
    await doomed.query('begin')
    await doomed.query('insert into t values (2, $1)', ['never committed'])
    doomed.connection.stream.destroy()
    const started = Date.now()
    expect((await survivor.query('select count(*)::int as n from t where id = 2')).rows[0].n).toBe(0)
    expect(Date.now() - started).toBeLessThan(5000)
    await survivor.query('insert into t values (2, $1)', ['committed'])
    expect((await survivor.query('select note from t where id = 2')).rows).toEqual([{note: 'committed'}])
  })

  it('disconnects a client that holds a transaction open and says nothing, as idle_in_transaction_session_timeout does', async () => {
    const [idle, waiting] = [await client(), await client()]
    const ended = new Promise<Error>((resolve) => idle.once('error', resolve))
    await idle.query('begin')
    await idle.query('insert into t values (3, $1)', ['idle'])
    expect((await waiting.query('select count(*)::int as n from t where id = 3')).rows[0].n).toBe(0)
    expect((await ended).message).toMatch(/idle-in-transaction timeout/)
  })

  it('copies rows in with COPY FROM STDIN, and a failed COPY keeps nothing', async () => {
    const copier = await client()
    const stream = copier.query(copyStreams.from('copy t (id, note) from stdin'))
    await pipeline(Readable.from(['10\tten\n11\televen\n']), stream)
    expect(stream.rowCount).toBe(2)
    const duplicate = copier.query(copyStreams.from('copy t (id, note) from stdin'))
    await expect(pipeline(Readable.from(['12\ttwelve\n10\tagain\n']), duplicate)).rejects.toThrow(/duplicate key/)
    expect((await copier.query('select id from t where id >= 10 order by id')).rows).toEqual([{id: 10}, {id: 11}])
  })

  it('refuses, without ending the session, a COPY FROM STDIN it could not run whole', async () => {
    const sender = await client()
    await expect(sender.query('copy t from stdin; select 1')).rejects.toThrow(/must be sent alone/)
    await expect(sender.query({queryMode: 'extended', text: 'copy t from stdin'} as pg.QueryConfig)).rejects.toThrow(/simple query/)
    expect((await sender.query('select 1 as ok')).rows).toEqual([{ok: 1}])
    // The session is whole for everyone else too.
    expect((await (await client()).query('select count(*)::int as n from t')).rows[0].n).toBeGreaterThan(0)
  })
})
