import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {example} from '../../cli/example.js'
import {type ApiKey, revokeApiKey} from '../../services/api-keys/api-keys.js'

export default class ApiKeysRevoke extends BaseCommand<typeof ApiKeysRevoke> {
  static override args = {name: Args.string({description: 'The key\'s name (see `synthex api-keys list`).', required: true})}
  static override description = 'Revokes an API key: the next request made with it is refused with 401, by every running `synthex serve` (keys are checked on each request, never cached). Revoking a revoked key changes nothing. The key stays listed, as revoked, for the audit trail.'
  static override examples = [example('zapier', 'Cut Zapier off at once.'), example('ci-deploy --json', 'Revoke a leaked key from a script; the result (name, prefix, revokedAt) as JSON.')]
  static override summary = 'Revoke an API key (effective on the next request).'

  async run(): Promise<ApiKey> {
    const key = await revokeApiKey(await this.db(), this.audit, this.args.name)
    this.output.success(`Revoked API key ${key.name} (${key.prefix}…).`)
    return key
  }
}
