import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../../cli/base-command.js'
import {secretSourceFlags} from '../../../cli/credential-flags.js'
import {integerFlag} from '../../../cli/integer-flags.js'
import {readEnvSecret, readSecret} from '../../../cli/secret-input.js'
import {CHANNEL_TYPES, channelKind} from '../../../notifiers/registry.js'
import {addChannel, type ChannelView} from '../../../services/alerts/channels.js'
import {SEVERITIES, type Severity} from '../../../domain/severity.js'
import {channelEnvironment} from '../../../config/environment.js'
import {example} from '../../../cli/example.js'

export default class ChannelsAdd extends BaseCommand<typeof ChannelsAdd> {
  static override args = {
    name: Args.string({description: 'A name for the channel, e.g. ops-slack.', required: true}),
  }

  static override description = `Adds a channel that alerts are sent to. Its secret (a Slack webhook URL, a PagerDuty routing key, a SendGrid API key, an SMTP URL with its password, a webhook's URL) is read from standard input, a file or an environment variable, stored encrypted like a credential, and never shown again. Send a test with \`synthex alerts channels test <name>\`.

Types: slack (a digest per run and severity), pagerduty (one event per alert, resolved when the alert resolves), sendgrid and smtp (a digest email per run, --from and --to), webhook (a JSON digest signed with HMAC-SHA256 in X-Synthex-Signature; its signing secret from --signing-secret-env), console (stderr).

Provider URLs must be https:// and reach a public address: plain http:// needs --allow-http, and loopback, private, link-local or cloud metadata addresses need --allow-private-network (both are shown by \`channels list\`). URLs holding user:password@ are refused. An SMTP server must offer STARTTLS (or use smtps://) unless the URL ends in ?tls=none.`

  static override examples = [
    {command: 'printf %s "$SLACK_URL" | <%= config.bin %> <%= command.id %> ops-slack --type slack --value-stdin --min-severity warning', description: 'A Slack channel for warnings and worse.'},
    example('oncall --type pagerduty --from-env PD_ROUTING_KEY --min-severity critical', 'Page on critical alerts.'),
    example('ops-mail --type smtp --from-env SMTP_URL --from alerts@example.com --to ops@example.com,oncall@example.com', 'Email over SMTP.'),
    example('zapier --type webhook --from-env ZAPIER_HOOK_URL --signing-secret-env ZAPIER_SIGNING_SECRET', 'A signed webhook.'),
    example('n8n --type webhook --from-env N8N_HOOK_URL --signing-secret-env N8N_SIGNING_SECRET --allow-private-network', 'A signed webhook to a service inside the network.'),
  ]

  static override flags = {
    ...secretSourceFlags,
    'allow-http': Flags.boolean({description: 'Allow a plain http:// URL (its secret and the alerts then travel unencrypted). Default: https only.'}),
    'allow-private-network': Flags.boolean({
      description: 'Allow a URL or SMTP server inside the network: loopback, private (RFC 1918, CGNAT, fc00::/7), link-local or metadata addresses. Default: refused.',
    }),
    'api-url': Flags.string({description: 'sendgrid: API base URL (EU: https://api.eu.sendgrid.com). Default: SENDGRID_API_URL, else SendGrid\'s.', helpValue: '<url>'}),
    concurrency: integerFlag({description: 'Requests in flight at once (default: the provider\'s).', max: 100, min: 1}),
    'events-url': Flags.string({description: 'pagerduty: Events API URL (EU: https://events.eu.pagerduty.com/v2/enqueue). Default: PAGERDUTY_EVENTS_URL, else PagerDuty\'s.', helpValue: '<url>'}),
    from: Flags.string({description: 'sendgrid, smtp: the sender address.', helpValue: '<email>'}),
    'min-severity': Flags.string({default: 'info', description: 'Only send alerts of this severity or higher.', options: [...SEVERITIES]}),
    'rate-per-minute': integerFlag({description: 'At most this many requests a minute (default: the provider\'s limit).', max: 1_000_000, min: 1}),
    'signing-secret-env': Flags.string({description: 'webhook: the environment variable holding the HMAC signing secret.', helpValue: '<NAME>'}),
    to: Flags.string({description: 'sendgrid, smtp: recipients, comma-separated.', helpValue: '<emails>'}),
    type: Flags.string({description: 'What kind of channel.', options: CHANNEL_TYPES, required: true}),
  }

  static override readsSecret = true
  static override summary = 'Add a notification channel.'

  async run(): Promise<ChannelView> {
    const {flags} = this
    const kind = channelKind(flags.type)
    const secret = kind?.secretField ? await readSecret(flags, {canPrompt: this.canPrompt(), prompt: `${kind.secretName} for ${this.args.name}: `}) : undefined
    const secretOptions: Record<string, string> = {}
    if (flags['signing-secret-env'] !== undefined) secretOptions.signingSecret = readEnvSecret('--signing-secret-env', flags['signing-secret-env'])

    const options: Record<string, unknown> = {}
    // Stored with the channel's settings, so `channels list` shows what it was allowed.
    if (flags['allow-http']) options.allowHttp = true
    if (flags['allow-private-network']) options.allowPrivateNetwork = true
    if (flags.from !== undefined) options.from = flags.from
    if (flags.to !== undefined) options.to = flags.to.split(',').map((address) => address.trim()).filter(Boolean)
    // The endpoint overrides of the environment channels (EU regions, proxies) apply to stored ones too.
    const environment = channelEnvironment()
    const eventsUrl = flags['events-url'] ?? (flags.type === 'pagerduty' ? environment.pagerdutyEventsUrl : undefined)
    const apiUrl = flags['api-url'] ?? (flags.type === 'sendgrid' ? environment.sendgridApiUrl : undefined)
    if (eventsUrl !== undefined) options.eventsUrl = eventsUrl
    if (apiUrl !== undefined) options.apiUrl = apiUrl
    const channel = await addChannel(await this.db(), secret || Object.keys(secretOptions).length > 0 ? this.keyring({sealing: true}) : undefined, this.audit, {
      limits: {concurrency: flags.concurrency, perMinute: flags['rate-per-minute']},
      minSeverity: flags['min-severity'] as Severity,
      name: this.args.name,
      options,
      secret,
      secretOptions,
      type: flags.type,
    })
    this.output.success(`Added channel ${channel.name} (${channel.type}, ${channel.minSeverity} and up). Try it with \`synthex alerts channels test ${channel.name}\`.`)
    return channel
  }
}
