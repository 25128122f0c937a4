import {BaseCommand} from '../../cli/base-command.js'
import {credentialRef, credentialRefFlags} from '../../cli/credential-flags.js'
import {tenantIdArg} from '../../cli/tenant-flags.js'
import {type Credential, describeCredential, revokeCredential} from '../../services/credentials/credentials.js'
import {example} from '../../cli/example.js'

export default class CredentialsRevoke extends BaseCommand<typeof CredentialsRevoke> {
  static override args = {'tenant-id': tenantIdArg}
  static override description = 'Marks a tenant\'s active credential revoked: it is kept for the audit trail but no longer active, and no longer alerts. Revoke it at the provider too (Shopify admin, Google Cloud console): synthex cannot do that for you. A new one can be stored with `synthex credentials set`.'
  static override examples = [
    example('acme-us --service shopify', 'Revoke a leaked token.'),
    example('acme-us --service gmc --label refresh --json', 'Revoke one of several credentials of a service.'),
  ]

  static override flags = {...credentialRefFlags}
  static override summary = 'Revoke a tenant\'s credential.'

  async run(): Promise<Credential> {
    const ref = credentialRef(this.args['tenant-id'], this.flags)
    const credential = await revokeCredential(await this.db(), await this.workspace(), this.audit, ref)
    this.output.success(`Revoked the credential of ${describeCredential(ref)} (version ${credential.version}, fingerprint ${credential.fingerprint}).`)
    return credential
  }
}
