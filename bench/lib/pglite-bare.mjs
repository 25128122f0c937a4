// The peer of an embedded synthex command: PGlite opened on a data directory, one query (the
// first page of `tenant tenants list`), closed; nothing else. `tuned` opens it as synthex does
// (src/db/open-database.ts: shared_buffers=16MB, V8's baseline compiler only).
import {setFlagsFromString} from 'node:v8'

const [dataDir, mode] = process.argv.slice(2)
if (mode === 'tuned') setFlagsFromString('--liftoff-only')
const {PGlite} = await import('@electric-sql/pglite')
const db = await PGlite.create(dataDir, mode === 'tuned' ? {startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB']} : {})
const result = await db.query('select * from tenants order by workspace_id, tenant_id limit 101')
process.stdout.write(`${JSON.stringify(result.rows)}\n`)
await db.close()
