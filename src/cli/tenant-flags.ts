import {Args, Flags} from '@oclif/core'

import {InvalidInputError} from '../errors/input-errors.js'
import {TENANT_STATUSES, TENANT_TYPES, type TenantField, type TenantFieldsInput} from '../domain/tenant-fields.js'

/** The `<tenant-id>` argument of every command about one tenant. */
export const tenantIdArg = Args.string({description: "The tenant's id in its workspace.", required: true})

/**
 * The tenant fields as flags, shared by `create` and `update`. Values are validated by the
 * same rules as CSV rows (services/tenant-fields.ts), not by oclif, so that a command line
 * and a CSV row get the same answer for the same value.
 */
export const tenantFieldFlags = {
  'gmc-merchant-id': Flags.string({description: 'Google Merchant Center account id (digits); required for google_merchant and mixed.', helpValue: '<id>'}),
  market: Flags.string({description: 'ISO 3166-1 alpha-2 country code of the market, e.g. US, DE.', helpValue: '<code>'}),
  name: Flags.string({description: 'Display name, 1-200 characters.', helpValue: '<name>'}),
  region: Flags.string({description: 'Free-text region, up to 64 characters (e.g. emea).', helpValue: '<region>'}),
  'shopify-shop': Flags.string({description: 'The shop domain, <name>.myshopify.com; required for shopify and mixed.', helpValue: '<domain>'}),
  status: Flags.string({description: 'active (default), inactive or suspended.', options: [...TENANT_STATUSES]}),
  type: Flags.string({description: 'What the tenant is.', options: [...TENANT_TYPES]}),
}

const FLAG_OF: Record<TenantField, string> = {
  gmc_merchant_id: '--gmc-merchant-id',
  market: '--market',
  name: '--name',
  region: '--region',
  shopify_shop: '--shopify-shop',
  status: '--status',
  tenant_id: '--tenant-id',
  type: '--type',
}

interface TenantFlagValues {
  'gmc-merchant-id'?: string
  market?: string
  name?: string
  region?: string
  'shopify-shop'?: string
  status?: string
  'tenant-id'?: string
  type?: string
}

export function tenantFieldsFromFlags(flags: TenantFlagValues): TenantFieldsInput {
  return {
    gmc_merchant_id: flags['gmc-merchant-id'],
    market: flags.market,
    name: flags.name,
    region: flags.region,
    shopify_shop: flags['shopify-shop'],
    status: flags.status,
    tenant_id: flags['tenant-id'],
    type: flags.type,
  }
}

/** Re-words field issues in terms of the flags the user typed (`--shopify-shop`, not `shopify_shop`). */
export async function withFlagNames<R>(work: () => Promise<R>): Promise<R> {
  try {
    return await work()
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error
    throw new InvalidInputError(
      error.issues.map((issue) => ({...issue, field: FLAG_OF[issue.field as TenantField] ?? issue.field})),
      error.hint,
    )
  }
}
