import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {batchedLines} from '../cli/batched-lines.js'
import {example} from '../cli/example.js'
import {FlagValueError} from '../cli/flag-value-error.js'
import {parseWhole} from '../cli/integer-flags.js'
import {durationFlag} from '../cli/credential-flags.js'
import {toErrorReport} from '../cli/error-report.js'
import {apiRateLimitSetting, channelEnvironment, consoleUrl, currentEnvironment, dogstatsdTarget, portSetting, providerEnvironment} from '../config/environment.js'
import {networkSettings} from '../config/settings.js'
import {holdEmbeddedForServing, type HeldEmbedded} from '../db/open-database.js'

/** Requests in flight at SIGTERM get this long to finish. */
const DRAIN_MS = 10_000
const DEFAULT_PORT = 3008
/** The scheduled verification runs as `credentials verify --all` does by default. */
const VERIFY_CONCURRENCY = 8
const VERIFY_TIMEOUT_MS = 10_000

export default class Serve extends BaseCommand<typeof Serve> {
  // Requests are answered in parallel.
  static override databasePoolSize = 10
  static override description = `Serves synthex's HTTP API over the same database as the commands: tenants, credentials (metadata, set and rotate; never a value), alerts, events, health and Prometheus metrics, inbound webhooks from Zapier, Make and Shopify, and the OpenAPI document at /api/openapi.json. Authenticate with \`Authorization: Bearer <key>\` (\`synthex api-keys create\`).

On the embedded database, serve holds it as the shared server (see \`synthex db start\`): cron's \`alerts check-now\` and operators' commands keep working beside it. It prints where it listens on stderr when ready, one JSON line per request on stdout (method, route, status, duration, the key's name; never a key or a body), and on SIGTERM or SIGINT stops taking connections, lets requests in flight finish (up to 10 s), closes the database and exits 0.`

  static override examples = [
    example('', 'Listen on 127.0.0.1:3008.'),
    example('--host 0.0.0.0 --port 8080', 'Listen on every interface (behind a TLS proxy).'),
    {command: 'PORT=8080 <%= config.bin %> <%= command.id %>', description: 'The port from the platform (Heroku, Render, Cloud Run).'},
    example('--public-metrics', 'Let Prometheus scrape /api/metrics without a key.'),
    example('--check-every 5m --verify-every 6h', 'Run the alert pipeline every 5 minutes, and check every credential with Shopify and Google every 6 hours.'),
  ]

  static override flags = {
    'check-every': Flags.string({description: 'Run the alert pipeline (`alerts check-now`) on this schedule, e.g. 5m; several serve processes on one database never deliver a notification twice.', helpValue: '<duration>'}),
    host: Flags.string({default: '127.0.0.1', description: 'Interface to listen on (0.0.0.0 for every one).', helpValue: '<address>'}),
    port: Flags.string({description: `Port to listen on (default: PORT, else ${DEFAULT_PORT}; 0 picks a free one).`, helpValue: '<port>'}),
    'public-metrics': Flags.boolean({description: 'Serve /api/metrics to anyone, without a key.'}),
    'verify-every': Flags.string({
      description:
        'Verify every active credential with its provider (`credentials verify --all`) when the last fleet run, by this process, another serve or cron, is older than this, e.g. 6h; a run that stopped midway is resumed; several serve processes verify each credential once.',
      helpValue: '<duration>',
    }),
  }

  static override summary = 'Serve the HTTP API (REST, webhooks, health, metrics).'

  async run(): Promise<{host: string; port: number}> {
    const portText = this.flags.port ?? portSetting() ?? String(DEFAULT_PORT)
    let port: number
    try {
      port = parseWhole(this.flags.port === undefined ? 'PORT' : '--port', portText, {max: 65_535, min: 0})
    } catch (error) {
      if (this.flags.port === undefined) throw new FlagValueError('PORT', portText, 'is not a port', `PORT must be a port number from 0 to 65535.`)
      throw error
    }

    const rateLimitText = apiRateLimitSetting() ?? '1200'
    let rateLimitPerMinute: number
    try {
      rateLimitPerMinute = parseWhole('SYNTHEX_API_RATE_LIMIT', rateLimitText, {max: 10_000_000, min: 1})
    } catch {
      throw new FlagValueError('SYNTHEX_API_RATE_LIMIT', rateLimitText, 'is not a whole number of requests a minute', 'SYNTHEX_API_RATE_LIMIT must be a whole number of requests a minute, from 1 to 10000000.')
    }

    const checkEveryMs = this.flags['check-every'] === undefined ? undefined : durationFlag('check-every', this.flags['check-every'], {max: 86_400_000, min: 10_000})
    const verifyEveryMs = this.flags['verify-every'] === undefined ? undefined : durationFlag('verify-every', this.flags['verify-every'], {max: 30 * 86_400_000, min: 60_000})
    const target = this.settings.database
    const stdout = batchedLines((text) => process.stdout.write(text))
    let held: HeldEmbedded | undefined
    let stopEmbedded: (() => Promise<void>) | undefined
    if (target.kind === 'embedded') {
      // Held as the shared server, so that other commands work beside serve; should a
      // server (db start) run already, serve is one of its clients like any command.
      held = await holdEmbeddedForServing(target, {command: 'serve', onProgress: (progress) => this.showProgress(progress)})
      this.stopSpinner()
      if (held) {
        const {startEmbeddedServer} = await import('../db/embedded-server.js')
        const embedded = await startEmbeddedServer(held.client, target.home, {idleInTransactionMs: 60_000, idleTimeoutMs: 0})
        stopEmbedded = () => embedded.stop(DRAIN_MS)
      }
    }

    try {
      const db = await this.db()
      const [{serveHttp}, {reachScopedDb, rowSecurityBinds}] = await Promise.all([import('../http/serve-http.js'), import('../db/reach-scoped-db.js')])
      // Under a login bound by row-level security (`db create-serve-role`), each request's
      // handle carries its caller's reach for the policies: the second line.
      const rowSecurity = await rowSecurityBinds(db)
      const server = await serveHttp({
        db: () => db,
        host: this.flags.host,
        keyring: (options) => this.keyring(options),
        log: (line) => stdout.write(JSON.stringify(line)),
        port,
        publicMetrics: this.flags['public-metrics'],
        rateLimitPerMinute,
        reachDb: rowSecurity ? (reach) => reachScopedDb(db, reach) : undefined,
      })
      this.output.info(`synthex serve listening on ${server.url} (database: ${(await this.database()).location}${rowSecurity ? '; row-level security: on' : ''})`)
      const log = (line: Record<string, unknown>): void => stdout.write(JSON.stringify({time: new Date().toISOString(), ...line}))
      const schedule =
        checkEveryMs === undefined
          ? undefined
          : (await import('../services/alerts/alert-schedule.js')).scheduleAlertChecks(() => db, {
              channelEnvironment: channelEnvironment(),
              consoleUrl: consoleUrl(),
              dogstatsd: dogstatsdTarget(),
              everyMs: checkEveryMs,
              keyring: this.keyring({sealing: false}),
              onRun: (result) =>
                'error' in result
                  ? log({error: toErrorReport(result.error).message, event: 'alerts.check'})
                  : log({event: 'alerts.check', failed: result.failed, firing: result.firing, new: result.new, resolved: result.resolved, sent: result.sent, webhooks: result.webhooks}),
            })
      const verification =
        verifyEveryMs === undefined
          ? undefined
          : (await import('../services/verification/verification-schedule.js')).scheduleVerification(() => db, {
              audit: {actor: 'serve', source: 'schedule'},
              concurrency: VERIFY_CONCURRENCY,
              endpoints: providerEnvironment(),
              everyMs: verifyEveryMs,
              keyring: this.keyring({sealing: false}),
              network: networkSettings(currentEnvironment()),
              onRun(result) {
                if ('skipped' in result) log({event: 'credentials.verify', skipped: result.skipped})
                else if ('error' in result) log({error: toErrorReport(result.error).message, event: 'credentials.verify'})
                else log({counts: result.counts, event: 'credentials.verify', interrupted: result.interrupted, resumed: result.resumed, total: result.total, verified: result.verified})
              },
              timeoutMs: VERIFY_TIMEOUT_MS,
            })
      const stopped = new Promise<void>((resolve) => {
        this.stopWith(resolve)
      })
      await stopped
      this.output.info('Stopping: no new connections; finishing requests in flight...')
      await Promise.all([server.close(DRAIN_MS), schedule?.stop(), verification?.stop()])
      return {host: this.flags.host, port: server.port}
    } finally {
      stdout.flush()
      await this.closeDatabase()
      await stopEmbedded?.()
      await held?.close()
    }
  }
}
