import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {credentialRef, credentialRefFlags} from '../../cli/credential-flags.js'
import {credentialRecord} from '../../cli/credential-view.js'
import {tenantIdArg} from '../../cli/tenant-flags.js'
import {type Credential, getCredential} from '../../services/credentials/credentials.js'
import {example} from '../../cli/example.js'

export default class CredentialsGet extends BaseCommand<typeof CredentialsGet> {
  static override args = {'tenant-id': tenantIdArg}
  static override description = `Shows a credential's metadata: version, fingerprint, key, expiry and status. The value itself is shown only with --reveal, which prints just the value on stdout (or as "value" with --json) and writes a credential.revealed event to the audit trail.`

  static override examples = [
    example('acme-us --service shopify', 'When does this token expire, and which version is it?'),
    {command: 'export SHOPIFY_TOKEN="$(<%= config.bin %> <%= command.id %> acme-us --service shopify --reveal)"', description: 'Hand the value to another tool (audited).'},
  ]

  static override flags = {
    ...credentialRefFlags,
    reveal: Flags.boolean({description: 'Print the secret value itself (recorded in the audit trail).'}),
  }

  static override summary = 'Show a credential (the value only with --reveal).'

  async run(): Promise<{credential: Credential; value?: string}> {
    const ref = credentialRef(this.args['tenant-id'], this.flags)
    const keyring = this.flags.reveal ? this.keyring({sealing: false}) : undefined
    const result = await getCredential(await this.db(), await this.workspace(), ref, {audit: this.audit, keyring, reveal: this.flags.reveal})
    if (!this.jsonEnabled()) {
      if (result.value === undefined) this.output.record(credentialRecord(result.credential))
      else process.stdout.write(`${result.value}\n`)
    }

    return result
  }
}
