import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {readWebhookUrl, webhookUrlFlags} from '../../cli/webhook-url-input.js'
import {WEBHOOK_EVENT_TYPES} from '../../services/webhooks/event-catalogue.js'
import {addSubscription, type Subscription} from '../../services/webhooks/subscriptions.js'
import {findWorkspace} from '../../services/workspaces/workspaces.js'

export default class WebhooksAdd extends BaseCommand<typeof WebhooksAdd> {
  static override args = {
    name: Args.string({description: 'A name for the subscription, e.g. crm or n8n-onboarding (lower-case letters, digits, - and _).', required: true}),
  }

  static override description = `Subscribes a receiver to synthex's events: each event it wants is sent to its URL as JSON, signed with the subscription's own secret (Standard Webhooks headers, and X-Webhook-Signature: sha256=... for older receivers). The secret (whsec_...) is printed once, on stdout; synthex keeps it encrypted like a credential and never shows it again (\`webhooks rotate-secret\` makes a new one).

Events: ${WEBHOOK_EVENT_TYPES.join(', ')}. --events takes types, families (tenant.*) or * for all.

The URL must be https:// and reach a public address: plain http:// needs --allow-http, and loopback, private, link-local or cloud metadata addresses need --allow-private-network (checked now, and again on the resolved address at every send). URLs holding user:password@ are refused. The URL may itself be a secret: lists and messages show only its host. --workspace limits the subscription to that workspace's events; without it, it gets every workspace's.`

  static override examples = [
    example('crm --url https://crm.example.com/hooks/synthex --events tenant.created,tenant.deleted', 'Tell the CRM about new and deleted tenants.'),
    example('jira --url-from-env JIRA_HOOK_URL --events credential.expiring', 'A receiver whose URL is a secret.'),
    {command: 'printf %s "$N8N_URL" | <%= config.bin %> <%= command.id %> n8n --url-stdin --events "alert.*" --allow-private-network', description: 'A workflow inside the network, for every alert event.'},
    example('eu-ops --url https://ops.example.com/hook --events "*" --workspace eu', 'Every event of one workspace.'),
    {command: 'SECRET=$(<%= config.bin %> <%= command.id %> crm --url https://crm.example.com/hook --events "tenant.*")', description: 'Capture the secret in a script (only the secret goes to stdout).'},
  ]

  static override flags = {
    ...webhookUrlFlags,
    'allow-http': Flags.boolean({description: 'Allow a plain http:// URL (events then travel unencrypted). Default: https only.'}),
    'allow-private-network': Flags.boolean({description: 'Allow a URL inside the network: loopback, private (RFC 1918, CGNAT, fc00::/7), link-local or metadata addresses. Default: refused.'}),
    events: Flags.string({description: `Event types or patterns, comma-separated: ${WEBHOOK_EVENT_TYPES.join(', ')}; family.* or *.`, helpValue: '<type,...>', required: true}),
  }

  static override readsSecret = true
  static override summary = 'Subscribe a URL to events (the signing secret is shown once).'

  async run(): Promise<Subscription & {secret: string; workspace: null | string}> {
    const {flags} = this
    const url = await readWebhookUrl(flags, {canPrompt: this.canPrompt(), name: this.args.name})
    const db = await this.db()
    // Only an explicit --workspace limits a subscription; SYNTHEX_WORKSPACE is where commands work.
    const workspace = flags.workspace === undefined ? undefined : await findWorkspace(db, flags.workspace)
    const {secret, subscription} = await addSubscription(db, this.keyring({sealing: true}), this.audit, {
      allowHttp: flags['allow-http'],
      allowPrivateNetwork: flags['allow-private-network'],
      events: flags.events.split(',').map((event) => event.trim()).filter(Boolean),
      name: this.args.name,
      url,
      workspace,
    })
    if (!this.jsonEnabled()) {
      this.output.success(`Added webhook ${subscription.name} to ${subscription.urlHost} for ${subscription.events.join(', ')}${workspace ? ` in workspace ${workspace.slug}` : ''}. Send it a ping with \`synthex webhooks test ${subscription.name}\`.`)
      this.output.warn('Store the signing secret now: it will not be shown again.')
      process.stdout.write(`${secret}\n`)
    }

    return {...subscription, secret, workspace: workspace?.slug ?? null}
  }
}
