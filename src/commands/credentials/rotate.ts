import {BaseCommand} from '../../cli/base-command.js'
import {credentialRef, credentialRefFlags, expiryFlags, expiryFromFlags, secretSourceFlags} from '../../cli/credential-flags.js'
import {credentialRecord} from '../../cli/credential-view.js'
import {readSecret} from '../../cli/secret-input.js'
import {tenantIdArg} from '../../cli/tenant-flags.js'
import {type Credential, describeCredential, rotateCredential} from '../../services/credentials/credentials.js'
import {example} from '../../cli/example.js'

export default class CredentialsRotate extends BaseCommand<typeof CredentialsRotate> {
  static override args = {'tenant-id': tenantIdArg}
  static override description = 'Replaces a tenant\'s active credential with a new value, as a new version. The previous version is kept, marked rotated, for the audit trail. The new value and its expiry are given as for `synthex credentials set`.'
  static override examples = [
    {command: 'printf %s "$NEW_TOKEN" | <%= config.bin %> <%= command.id %> acme-us --service shopify --value-stdin --expires-in 90d', description: 'Rotate a Shopify token.'},
    example('acme-us --service google --from-file new-key.json --json', 'Rotate a service account key, with a JSON result.'),
  ]

  static override flags = {...credentialRefFlags, ...secretSourceFlags, ...expiryFlags}
  static override readsSecret = true
  static override summary = 'Rotate a tenant\'s credential to a new value.'

  async run(): Promise<{current: Credential; previous: Credential}> {
    const ref = credentialRef(this.args['tenant-id'], this.flags)
    const expiresAt = expiryFromFlags(this.flags)
    const value = await readSecret(this.flags, {canPrompt: this.canPrompt(), prompt: `New secret for ${describeCredential(ref)}: `})
    const keyring = this.keyring({sealing: true})
    const result = await rotateCredential(await this.db(), keyring, await this.workspace(), this.audit, ref, {expiresAt, value})
    if (!this.jsonEnabled()) {
      this.output.success(`Rotated the credential of ${describeCredential(ref)}: version ${result.previous.version} (${result.previous.fingerprint}) -> ${result.current.version} (${result.current.fingerprint}).`)
      if (!expiresAt) this.output.warn('No expiry given for the new version: synthex cannot warn before it lapses (use --expires-in or --expires-at).')
      this.output.record(credentialRecord(result.current))
    }

    return result
  }
}
