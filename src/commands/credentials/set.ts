import {BaseCommand} from '../../cli/base-command.js'
import {credentialRef, credentialRefFlags, expiryFlags, expiryFromFlags, secretSourceFlags} from '../../cli/credential-flags.js'
import {credentialRecord} from '../../cli/credential-view.js'
import {readSecret} from '../../cli/secret-input.js'
import {tenantIdArg} from '../../cli/tenant-flags.js'
import {type Credential, describeCredential, setCredential} from '../../services/credentials/credentials.js'
import {example} from '../../cli/example.js'

export default class CredentialsSet extends BaseCommand<typeof CredentialsSet> {
  static override args = {'tenant-id': tenantIdArg}
  static override description = `Stores a tenant's API credential, encrypted (AES-256-GCM) under the active key and bound to its tenant, service and label. The secret is read from standard input, a file or a named environment variable, or asked for without echo on a terminal: never from the command line, where other users could see it.

Give its expiry (--expires-in 90d or --expires-at) so that \`synthex credentials expiring\` and the alerts can warn before it lapses. To replace an existing credential, use \`synthex credentials rotate\`.`

  static override examples = [
    {command: 'printf %s "$SHOPIFY_TOKEN" | <%= config.bin %> <%= command.id %> acme-us --service shopify --value-stdin --expires-in 90d', description: 'A Shopify Admin API token from a pipeline secret.'},
    example('acme-us --service google --from-file service-account.json', 'A Google service account key file.'),
    example('acme-us --service gmc --label refresh --from-env GMC_REFRESH_TOKEN --expires-at 2027-06-30', 'A Merchant Center refresh token, with its own label.'),
    example('acme-us --service shopify', 'On a terminal: asks for the token without echoing it.'),
  ]

  static override flags = {...credentialRefFlags, ...secretSourceFlags, ...expiryFlags}
  static override readsSecret = true
  static override summary = 'Store a tenant\'s credential, encrypted.'

  async run(): Promise<Credential> {
    const ref = credentialRef(this.args['tenant-id'], this.flags)
    const expiresAt = expiryFromFlags(this.flags)
    const value = await readSecret(this.flags, {canPrompt: this.canPrompt(), prompt: `Secret for ${describeCredential(ref)}: `})
    const keyring = this.keyring({sealing: true})
    const credential = await setCredential(await this.db(), keyring, await this.workspace(), this.audit, ref, {expiresAt, value})
    if (!this.jsonEnabled()) {
      this.output.success(`Stored the credential of ${describeCredential(ref)} (version ${credential.version}, fingerprint ${credential.fingerprint}).`)
      if (!expiresAt) this.output.warn('No expiry given: synthex cannot warn before this credential lapses (use --expires-in or --expires-at).')
      this.output.record(credentialRecord(credential))
    }

    return credential
  }
}
