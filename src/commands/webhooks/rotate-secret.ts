import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {durationFlag} from '../../cli/credential-flags.js'
import {example} from '../../cli/example.js'
import {MAX_OVERLAP_MS, rotateSubscriptionSecret, type Subscription} from '../../services/webhooks/subscriptions.js'

export default class WebhooksRotateSecret extends BaseCommand<typeof WebhooksRotateSecret> {
  static override args = {
    name: Args.string({description: 'The subscription whose signing secret to replace.', required: true}),
  }

  static override description = `Gives a webhook subscription a new signing secret (whsec_...), printed once on stdout. The previous secret keeps signing too for --overlap (default 24h, at most 7d): every delivery meanwhile carries two v1 signatures in webhook-signature, so the receiver can switch to the new secret without missing one. --overlap 0s drops the old secret at once. X-Webhook-Signature (sha256=) is signed with the new secret only.`

  static override examples = [
    example('crm', 'A new secret; the old one keeps working for a day.'),
    example('crm --overlap 1h', 'The old one stops after an hour.'),
    example('crm --overlap 0s --json', 'The old one stops now (it leaked).'),
  ]

  static override flags = {
    overlap: Flags.string({default: '24h', description: 'How long the previous secret keeps signing too (0s to 7d).', helpValue: '<duration>'}),
  }

  static override summary = 'Replace a webhook subscription\'s signing secret (shown once).'

  async run(): Promise<{previousSecretUntil: Date | null; secret: string; subscription: Subscription}> {
    const overlapMs = durationFlag('overlap', this.flags.overlap, {max: MAX_OVERLAP_MS, min: 0}, 'such as 24h, 1h or 0s')
    const rotated = await rotateSubscriptionSecret(await this.db(), this.keyring({sealing: true}), this.audit, this.args.name, {overlapMs})
    if (!this.jsonEnabled()) {
      this.output.success(`New signing secret for webhook ${rotated.subscription.name}; ${rotated.previousSecretUntil ? `the previous one keeps signing until ${rotated.previousSecretUntil.toISOString()}` : 'the previous one no longer signs'}.`)
      this.output.warn('Store the signing secret now: it will not be shown again.')
      process.stdout.write(`${rotated.secret}\n`)
    }

    return rotated
  }
}
