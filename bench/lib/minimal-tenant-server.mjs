// The peer of `synthex serve` in bench/serve.bench.mjs: the least a server can do to answer
// `GET /api/tenants/{tenantId}` from Postgres: node:http, a pg pool of the size serve uses
// (10), one single-row query, the row as JSON. No authentication, no validation, no log.
// Usage: node minimal-tenant-server.mjs <database-url>; prints the port it listens on.
import {createServer} from 'node:http'

import pg from 'pg'

const pool = new pg.Pool({connectionString: process.argv[2], max: 10})
const PATH = /^\/api\/tenants\/([^/?]+)/

const server = createServer(async (request, response) => {
  const match = PATH.exec(request.url ?? '')
  if (!match) {
    response.writeHead(404).end()
    return
  }

  try {
    const {rows} = await pool.query(
      'select t.*, w.slug as workspace from tenants t join workspaces w on w.id = t.workspace_id where w.slug = $1 and t.tenant_id = $2',
      ['default', decodeURIComponent(match[1])],
    )
    const row = rows[0]
    if (!row) {
      response.writeHead(404, {'content-type': 'application/json'}).end('{"error":{"code":"NOT_FOUND"}}')
      return
    }

    const body = JSON.stringify({
      createdAt: row.created_at,
      gmcMerchantId: row.gmc_merchant_id,
      id: row.id,
      lastActivityAt: row.last_activity_at,
      market: row.market,
      name: row.name,
      region: row.region,
      shopifyShop: row.shopify_shop,
      status: row.status,
      tenantId: row.tenant_id,
      type: row.type,
      updatedAt: row.updated_at,
      workspace: row.workspace,
    })
    response.writeHead(200, {'content-type': 'application/json'}).end(body)
  } catch {
    response.writeHead(500).end()
  }
})

server.listen(0, '127.0.0.1', () => console.log(String(server.address().port)))
process.on('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  void pool.end()
})
