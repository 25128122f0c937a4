import * as z from 'zod/mini'

import type {TenantStatus, TenantType} from '../db/schema.js'
import type {FieldIssue} from '../errors/input-errors.js'
import {ISO_COUNTRY_CODES} from './country-codes.js'

/**
 * The rules for a tenant's fields, shared by `tenant tenants create|update` and the CSV
 * import, so a row that one accepts the other accepts too. Field names are the CSV column
 * names (and the SQL column names).
 */

export const TENANT_TYPES = ['shopify', 'google_merchant', 'mixed'] as const satisfies readonly TenantType[]
export const TENANT_STATUSES = ['active', 'inactive', 'suspended'] as const satisfies readonly TenantStatus[]
export const TENANT_FIELDS = [
  'tenant_id',
  'name',
  'type',
  'shopify_shop',
  'gmc_merchant_id',
  'market',
  'region',
  'status',
] as const

export type TenantField = (typeof TENANT_FIELDS)[number]

/** Raw values as they come from flags or a CSV row: text, possibly blank. */
export type TenantFieldsInput = Partial<Record<TenantField, string | null | undefined>>

/** A valid tenant, normalised: trimmed, shop lower-cased, market upper-cased, blanks as null. */
export interface TenantFields {
  readonly gmc_merchant_id: string | null
  readonly market: string | null
  readonly name: string
  readonly region: string | null
  readonly shopify_shop: string | null
  readonly status: TenantStatus
  readonly tenant_id: string
  readonly type: TenantType
}

export type TenantFieldsResult = {readonly issues: readonly FieldIssue[]; readonly ok: false} | {readonly ok: true; readonly value: TenantFields}

const required = (what: string) => ({
  error: (issue: {input?: unknown}) => (issue.input === undefined || issue.input === null ? 'is required' : `must be ${what}`),
})

/** Blank optional values mean "none". */
const blankToNull = (value: string | null | undefined): string | null => {
  const trimmed = value?.trim()
  return trimmed ? trimmed : null
}

const characters = (value: string): number => [...value].length

/** A required text field: trimmed, and blank counts as missing. */
const requiredText = (what: string) => z.string(required(what)).check(z.trim(), z.refine((value) => value.length > 0, {error: 'is required'}))

/** An optional text field: blank becomes null, `normalise` applies to the rest. */
const optionalText = (normalise: (value: string) => string = (value) => value) =>
  z.pipe(
    z.nullish(z.string()),
    z.transform((value) => {
      const text = blankToNull(value)
      return text === null ? null : normalise(text)
    }),
  )

const schemas = {
  gmc_merchant_id: optionalText().check(
    z.refine((value) => value === null || /^\d{1,20}$/.test(value), {error: 'must be the numeric Merchant Center id (digits only)'}),
  ),
  market: optionalText((value) => value.toUpperCase()).check(
    z.refine((value) => value === null || ISO_COUNTRY_CODES.has(value), {
      error: (issue) => {
        const code = String(issue.input)
        const suggestion = code === 'UK' ? ' (the United Kingdom is GB)' : ''
        return `must be an ISO 3166-1 alpha-2 country code such as US or DE, got "${code}"${suggestion}`
      },
    }),
  ),
  name: requiredText('text').check(z.refine((value) => characters(value) <= 200, {error: 'must be at most 200 characters'})),
  region: optionalText().check(z.refine((value) => value === null || characters(value) <= 64, {error: 'must be at most 64 characters'})),
  shopify_shop: optionalText((value) => value.toLowerCase()).check(
    z.refine((value) => value === null || /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/.test(value), {
      error: "must be the shop's <name>.myshopify.com domain",
    }),
  ),
  status: z.pipe(
    optionalText((value) => value.toLowerCase()),
    z.pipe(
      z.transform((value: string | null) => value ?? 'active'),
      z.enum(TENANT_STATUSES, {error: `must be one of ${TENANT_STATUSES.join(', ')}`}),
    ),
  ),
  tenant_id: requiredText('text').check(
    z.refine((value) => value.length <= 64, {error: 'must be at most 64 characters'}),
    z.refine((value) => /^[\w-]*$/.test(value), {error: 'may contain only letters, digits, "_" and "-"'}),
  ),
  type: z.pipe(
    requiredText('text').check(z.toLowerCase()),
    z.enum(TENANT_TYPES, {error: `must be one of ${TENANT_TYPES.join(', ')}`}),
  ),
} satisfies Record<TenantField, z.ZodMiniType>

/**
 * Validates a tenant's fields and reports every problem at once (a CSV row with three
 * mistakes gets three reasons, not one per attempt).
 */
export function parseTenantFields(input: TenantFieldsInput): TenantFieldsResult {
  const issues: FieldIssue[] = []
  const value: Record<string, unknown> = {}
  for (const field of TENANT_FIELDS) {
    const result = schemas[field].safeParse(input[field])
    if (result.success) value[field] = result.data
    else issues.push({field, message: result.error.issues[0]?.message ?? 'is invalid'})
  }

  const fields = value as unknown as TenantFields
  if (fields.type !== undefined) {
    const needsShop = fields.type !== 'google_merchant'
    const needsMerchant = fields.type !== 'shopify'
    checkPresence(issues, fields, 'shopify_shop', needsShop, 'shopify or mixed')
    checkPresence(issues, fields, 'gmc_merchant_id', needsMerchant, 'google_merchant or mixed')
  }

  return issues.length > 0 ? {issues, ok: false} : {ok: true, value: fields}
}

function checkPresence(
  issues: FieldIssue[],
  fields: TenantFields,
  field: 'gmc_merchant_id' | 'shopify_shop',
  needed: boolean,
  types: string,
): void {
  if (issues.some((issue) => issue.field === field)) return
  if (needed && fields[field] === null) issues.push({field, message: `is required for type ${fields.type}`})
  if (!needed && fields[field] !== null) {
    issues.push({field, message: `applies only to type ${types}; leave it empty for type ${fields.type} (or use type mixed)`})
  }
}
