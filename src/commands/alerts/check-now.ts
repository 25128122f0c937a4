import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/credential-flags.js'
import {checkAlerts, type CheckResult} from '../../services/alerts/alert-check.js'
import {SEVERITIES, type Severity, severityRank} from '../../domain/severity.js'
import {channelEnvironment, consoleUrl, dogstatsdTarget, heartbeatUrlSetting} from '../../config/environment.js'
import {heartbeatTarget, pingHeartbeat, type HeartbeatOutcome} from '../../notifiers/heartbeat.js'
import {example} from '../../cli/example.js'
import {integerFlag} from '../../cli/integer-flags.js'
import {DEFAULT_STORM_THRESHOLD} from '../../services/alerts/alert-storms.js'

export default class AlertsCheckNow extends BaseCommand<typeof AlertsCheckNow> {
  // Delivery workers of several channels claim and record at once.
  static override databasePoolSize = 8
  static override description = `Evaluates the alert rules, reconciles the alerts (new, escalated, reminded, resolved, silenced) and delivers the notifications this calls for to every channel, then sends the webhook deliveries that are due (as \`synthex webhooks deliver\` does), then prints a one-line summary. Run it from cron every few minutes.

Overlapping runs are safe: the reconcile runs under a database lock and each notification is delivered once. A channel that is down loses nothing: its notifications stay in the outbox and are retried with backoff (honouring Retry-After, for an hour at most) by this and later runs; \`synthex alerts deliveries\` shows them. With no channel configured, alerts are printed on stderr.

A storm (more than --digest-over notifications of one rule, severity and kind in one run, such as a fleet-wide condition) goes to each channel as one digest with the count and the first few alerts; every alert is still recorded and listed by \`synthex alerts list\`.`

  static override examples = [
    {command: '*/5 * * * * <%= config.bin %> <%= command.id %> >> /var/log/synthex-alerts.log 2>&1', description: 'A crontab line.'},
    example('--dry-run', 'What would be sent, changing nothing.'),
    example('--fail-on critical --json', 'A CI gate: exit 3 while a critical alert fires.'),
    {command: 'SYNTHEX_HEARTBEAT_URL=https://hc-ping.com/<uuid> <%= config.bin %> <%= command.id %>', description: 'Ping a healthchecks.io check after each run, so a cron job that stops is noticed.'},
  ]

  static override flags = {
    'digest-over': integerFlag({
      default: DEFAULT_STORM_THRESHOLD,
      description: 'A storm guard: when a run calls for more than this many notifications of one rule, severity and kind, each channel gets one digest (the count and the first few) instead; the alerts are recorded one by one as ever.',
      max: 1_000_000,
      min: 1,
    }),
    'dry-run': Flags.boolean({description: 'Show what would be sent; change and send nothing.'}),
    'fail-on': Flags.string({description: 'Exit 3 when an alert of this severity or higher is firing (and not silenced).', options: [...SEVERITIES]}),
    'heartbeat-url': Flags.string({
      description: 'A dead-man\'s switch (healthchecks.io, Cronitor...): GET this URL after each successful run, and the URL with /fail appended after a failed one; not on --dry-run. Default: SYNTHEX_HEARTBEAT_URL. Treated as a secret: never printed. A ping that fails is a warning, not a failed run.',
      helpValue: '<url>',
    }),
    'max-wait': Flags.string({default: '30s', description: 'How long this run may wait on rate limits and retries before leaving the rest to the next run.', helpValue: '<duration>'}),
  }

  static override summary = 'Evaluate alert rules and send notifications (for cron).'

  async run(): Promise<CheckResult & {heartbeat?: 'failed' | 'pinged'}> {
    const {'digest-over': stormThreshold, 'dry-run': dryRun, 'fail-on': failOn, 'heartbeat-url': heartbeatFlag, 'max-wait': maxWait} = this.flags
    const heartbeatValue = heartbeatFlag ?? heartbeatUrlSetting()
    const heartbeat = heartbeatValue === undefined || dryRun ? undefined : heartbeatTarget(heartbeatValue, heartbeatFlag === undefined ? 'SYNTHEX_HEARTBEAT_URL' : '--heartbeat-url')
    const maxWaitMs = durationFlag('max-wait', maxWait, {max: 24 * 3_600_000})
    const controller = new AbortController()
    process.once('SIGINT', () => controller.abort())
    process.once('SIGTERM', () => controller.abort())
    const ping = async (outcome: HeartbeatOutcome): Promise<'failed' | 'pinged' | undefined> => {
      if (!heartbeat) return undefined
      const answer = await pingHeartbeat(heartbeat, outcome, {policy: channelEnvironment().network})
      if (answer.ok) return 'pinged'
      this.output.warn(`The heartbeat ping${outcome === 'fail' ? ' (/fail)' : ''} failed: ${answer.reason}. The run itself is not affected.`)
      return 'failed'
    }

    let checked: CheckResult
    try {
      checked = await checkAlerts(await this.db(), {
        channelEnvironment: channelEnvironment(),
        consoleUrl: consoleUrl(),
        dogstatsd: dogstatsdTarget(),
        dryRun,
        keyring: this.keyring({sealing: false}),
        maxWaitMs,
        signal: controller.signal,
        stormThreshold,
      })
    } catch (error) {
      await ping('fail')
      throw error
    }

    const pinged = await ping('success')
    const result = pinged ? {...checked, heartbeat: pinged} : checked
    if (!this.jsonEnabled()) {
      if (result.wouldSend) {
        this.output.list(
          result.wouldSend,
          [
            {header: 'Channel', key: 'channel', value: (item) => item.channel},
            {header: 'Kind', key: 'kind', value: (item) => item.kind},
            {header: 'Severity', key: 'severity', value: (item) => item.severity},
            {header: 'Summary', key: 'summary', value: (item) => item.summary},
          ],
          {empty: 'Dry run: nothing would be sent.'},
        )
      }

      process.stdout.write(`${summaryLine(result)}\n`)
    }

    for (const name of result.webhooks.unopened) this.output.warn(`Webhook subscription ${name} could not be opened (is its encryption key configured?): its deliveries wait.`)
    for (const name of result.webhooks.disabled) this.output.warn(`Webhook subscription ${name} answered 410 Gone and was disabled: its deliveries wait until it is enabled again.`)

    if (failOn && result.highestFiring && severityRank(result.highestFiring) >= severityRank(failOn as Severity)) {
      this.output.info(`A ${result.highestFiring} alert is firing (--fail-on ${failOn}): exit 3. See \`synthex alerts list\`.`)
      process.exitCode = 3
    }

    return result
  }
}

/** 12,345: the first toLocaleString of a process loads ICU's locale data, longer than the rest of the line takes. */
const n = (value: number): string => String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',')

/** The cron log line: `evaluated 2,000 · firing 30 (new 2, escalated 1, resolved 3, silenced 0) · sent 6 · failed 0 · pending retry 0` */
export function summaryLine(result: CheckResult): string {
  const changes = `new ${n(result.new)}, escalated ${n(result.escalated)}, reminded ${n(result.reminded)}, resolved ${n(result.resolved)}, silenced ${n(result.silenced)}`
  const prefix = result.dryRun ? 'dry run: ' : ''
  const delivery = result.dryRun ? `would send ${n(result.queued)}` : `sent ${n(result.sent)} · failed ${n(result.failed)} · pending retry ${n(result.pendingRetry)}`
  const {webhooks} = result
  // Said only where there are webhooks to speak of: without subscriptions the line is as it was.
  const hooks = webhooks.sent + webhooks.retried + webhooks.failed + webhooks.pending + webhooks.disabled.length > 0 ? ` · webhooks sent ${n(webhooks.sent)}, retried ${n(webhooks.retried)}, failed ${n(webhooks.failed)}, pending ${n(webhooks.pending)}` : ''
  return `${prefix}evaluated ${n(result.evaluated)} · firing ${n(result.firing)} (${changes}) · ${delivery}${hooks}`
}
