import {TenantChangeCommand} from '../../../cli/tenant-change-command.js'
import type {TenantChange} from '../../../services/import/tenant-changes.js'
import {example} from '../../../cli/example.js'

export default class BatchTenantsUpdate extends TenantChangeCommand {
  static override description = `Changes existing tenants from a CSV file (or standard input with -): each row names a tenant by tenant_id (and, optionally, workspace) and gives the new values of the columns the file has; columns the file does not have are left as they are, and a blank cell means "none", as in the import. Each tenant is checked as a whole by the rules of \`synthex tenant tenants update\`.

A tenant that does not exist is a rejected row (exit code 3), reported with its line and every problem at once; tenants already as the file says are counted unchanged, so the file can be applied again. An edited export of \`synthex tenant tenants list --all --csv\` works as it is.`

  static override examples = [
    example('--from-csv regions.csv', 'regions.csv: tenant_id,region / acme-us,emea (only the region changes).'),
    example('--from-csv tenants.csv --dry-run', 'Check an edited export without writing.'),
  ]

  static override summary = 'Change existing tenants in bulk from a CSV file.'
  protected readonly verb = 'updated'

  protected change(): TenantChange {
    return {kind: 'update'}
  }
}
