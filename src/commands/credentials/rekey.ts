import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {integerFlag} from '../../cli/integer-flags.js'
import {SynthexError} from '../../errors/synthex-error.js'
import {rekeyCredentials, type RekeyResult} from '../../services/credentials/credentials.js'
import {rekeySubscriptions, type SubscriptionRekeyResult} from '../../services/webhooks/subscriptions.js'
import {example} from '../../cli/example.js'

export default class CredentialsRekey extends BaseCommand<typeof CredentialsRekey> {
  static override description = `Re-encrypts every credential (all versions) that is not under the active key, in batches, each in its own transaction: if it is interrupted, run it again and it carries on. Webhook subscriptions' URLs and signing secrets are re-encrypted too. Afterwards the old keys can be dropped.

Key rotation: make the new key SYNTHEX_ENCRYPTION_KEY, list the old one in SYNTHEX_ENCRYPTION_KEYS (as id:base64) so it still decrypts, run this, then remove the old key.`

  static override examples = [
    {command: 'SYNTHEX_ENCRYPTION_KEY="$NEW_KEY" SYNTHEX_ENCRYPTION_KEYS="old:$OLD_KEY" <%= config.bin %> <%= command.id %>', description: 'Move every credential to a new key.'},
    example('--dry-run', 'How many credentials are under which key, without changing anything.'),
  ]

  static override flags = {
    'batch-size': integerFlag({default: 1000, description: 'Credentials per transaction.', max: 50_000, min: 1}),
    'dry-run': Flags.boolean({description: 'Only count what would be moved.'}),
  }

  static override summary = 'Re-encrypt credentials under the active key.'

  async run(): Promise<RekeyResult & {webhookSubscriptions: SubscriptionRekeyResult}> {
    const keyring = this.keyring({sealing: !this.flags['dry-run']})
    const spinner = this.spin('Re-encrypting credentials...')
    const result = await rekeyCredentials(await this.db(), keyring, this.audit, {
      batchSize: this.flags['batch-size'],
      dryRun: this.flags['dry-run'],
      onProgress: (moved) => spinner.update(`Re-encrypting credentials... ${moved.toLocaleString('en-US')} moved`),
    })
    // Sealed like credentials, and few: moved after them, in one transaction.
    const webhookSubscriptions = await rekeySubscriptions(await this.db(), keyring, this.audit, {dryRun: this.flags['dry-run']})
    spinner.stop()
    if (!this.jsonEnabled()) {
      const from = Object.entries(result.fromKeys).map(([key, count]) => `${count.toLocaleString('en-US')} from ${key}`).join(', ')
      if (result.dryRun) this.output.info(result.remaining === 0 ? `Every credential is under the active key ${result.activeKey}.` : `${result.remaining.toLocaleString('en-US')} credentials would move to ${result.activeKey}: ${from}.`)
      else if (result.moved === 0 && result.failed.length === 0) this.output.success(`Every credential is already under the active key ${result.activeKey}.`)
      else this.output.success(`Moved ${result.moved.toLocaleString('en-US')} credentials to key ${result.activeKey}${from ? ` (${from})` : ''}.`)
      for (const failure of result.failed) this.output.warn(`Not moved: ${failure.reason}`)
      if (result.dryRun && webhookSubscriptions.remaining > 0) this.output.info(`${webhookSubscriptions.remaining.toLocaleString('en-US')} webhook subscriptions would move to ${result.activeKey}.`)
      if (webhookSubscriptions.moved > 0) this.output.success(`Moved ${webhookSubscriptions.moved.toLocaleString('en-US')} webhook subscriptions to key ${result.activeKey}.`)
      for (const failure of webhookSubscriptions.failed) this.output.warn(`Not moved: ${failure.reason}`)
    }

    if (!result.dryRun && result.remaining > 0) {
      throw new SynthexError(`${result.remaining.toLocaleString('en-US')} credential${result.remaining === 1 ? ' is' : 's are'} still not under the active key ${result.activeKey} (moved ${result.moved.toLocaleString('en-US')}).`, {
        code: 'REKEY_INCOMPLETE',
        details: {failed: result.failed, moved: result.moved, remaining: result.remaining},
        hint: result.failed.length > 0 ? 'Those listed could not be decrypted: restore or rotate them, then run rekey again. Keep the old keys until rekey reports nothing left.' : 'Run rekey again; keep the old keys until it reports nothing left.',
      })
    }

    if (!result.dryRun && webhookSubscriptions.remaining > 0) {
      throw new SynthexError(`${webhookSubscriptions.remaining.toLocaleString('en-US')} webhook subscription${webhookSubscriptions.remaining === 1 ? ' is' : 's are'} still not under the active key ${result.activeKey}.`, {
        code: 'REKEY_INCOMPLETE',
        details: {failed: webhookSubscriptions.failed, moved: webhookSubscriptions.moved, remaining: webhookSubscriptions.remaining},
        hint: 'Those listed could not be decrypted: remove and add them again (a new secret), then run rekey again. Keep the old keys until rekey reports nothing left.',
      })
    }

    return {...result, webhookSubscriptions}
  }
}
