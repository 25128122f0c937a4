import * as z from 'zod/mini'

import type {FieldIssue} from '../errors/input-errors.js'
import {ISO_COUNTRY_CODES} from './country-codes.js'

/**
 * A tenant's fields, defined once. Each entry says how the field is validated and normalised,
 * its camelCase name in JSON results, its column header for people, and the text of its flag.
 * From this table follow the CSV columns (the keys, in order: also the SQL column names), the
 * `tenant tenants create|update` flags (src/cli/tenant-flags.ts), the table and CSV columns of
 * `list` (src/cli/tenant-view.ts), the row mapping (src/services/tenants/tenants.ts), the
 * import's column lists (src/services/import/tenant-import.ts) and the schema's column types
 * (src/db/schema.ts). A new field is one entry here plus a migration.
 */

export const TENANT_TYPES = ['shopify', 'google_merchant', 'mixed'] as const
export type TenantType = (typeof TENANT_TYPES)[number]
export const TENANT_STATUSES = ['active', 'inactive', 'suspended'] as const
export type TenantStatus = (typeof TENANT_STATUSES)[number]

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

/**
 * Each field's schema is built when first used: zod schemas take milliseconds to build
 * (every check makes a new schema), and most commands (list, get, the exports) validate no
 * tenant field.
 */
const schemas = new Map<string, unknown>()
function lazySchema<T>(field: string, build: () => T): T {
  if (!schemas.has(field)) schemas.set(field, build())
  return schemas.get(field) as T
}

/** What a field is, besides its rules. */
interface FieldSpec {
  /** The `--flag` help text of `tenant tenants create|update`. */
  readonly description: string
  readonly helpValue?: string
  /** Column header in tables and records. */
  readonly label: string
  /** The only values it takes, for the flag's help and completion. */
  readonly options?: readonly string[]
  /** The camelCase name in JSON results (and, later, the API). */
  readonly property: string
  /** Validates and normalises the raw text (flags and CSV cells alike). */
  readonly schema: z.ZodMiniType
}

export const TENANT_FIELD_SPECS = {
  tenant_id: {
    description: 'Id of the tenant, unique in its workspace: 1-64 of A-Z a-z 0-9 _ -.',
    helpValue: '<id>',
    label: 'Tenant ID',
    property: 'tenantId',
    get schema() {
      return lazySchema('tenant_id', () =>
        requiredText('text').check(
          z.refine((value) => value.length <= 64, {error: 'must be at most 64 characters'}),
          z.refine((value) => /^[\w-]*$/.test(value), {error: 'may contain only letters, digits, "_" and "-"'}),
        ),
      )
    },
  },
  name: {
    description: 'Display name, 1-200 characters.',
    helpValue: '<name>',
    label: 'Name',
    property: 'name',
    get schema() {
      return lazySchema('name', () => requiredText('text').check(z.refine((value) => characters(value) <= 200, {error: 'must be at most 200 characters'})))
    },
  },
  type: {
    description: 'What the tenant is.',
    label: 'Type',
    options: TENANT_TYPES,
    property: 'type',
    get schema() {
      return lazySchema('type', () =>
        z.pipe(
          requiredText('text').check(z.toLowerCase()),
          z.enum(TENANT_TYPES, {error: `must be one of ${TENANT_TYPES.join(', ')}`}),
        ),
      )
    },
  },
  shopify_shop: {
    description: 'The shop domain, <name>.myshopify.com; required for shopify and mixed.',
    helpValue: '<domain>',
    label: 'Shopify shop',
    property: 'shopifyShop',
    get schema() {
      return lazySchema('shopify_shop', () =>
        optionalText((value) => value.toLowerCase()).check(
          z.refine((value) => value === null || /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/.test(value), {
            error: "must be the shop's <name>.myshopify.com domain",
          }),
        ),
      )
    },
  },
  gmc_merchant_id: {
    description: 'Google Merchant Center account id (digits); required for google_merchant and mixed.',
    helpValue: '<id>',
    label: 'Merchant ID',
    property: 'gmcMerchantId',
    get schema() {
      return lazySchema('gmc_merchant_id', () =>
        optionalText().check(z.refine((value) => value === null || /^\d{1,20}$/.test(value), {error: 'must be the numeric Merchant Center id (digits only)'})),
      )
    },
  },
  market: {
    description: 'ISO 3166-1 alpha-2 country code of the market, e.g. US, DE.',
    helpValue: '<code>',
    label: 'Market',
    property: 'market',
    get schema() {
      return lazySchema('market', () =>
        optionalText((value) => value.toUpperCase()).check(
          z.refine((value) => value === null || ISO_COUNTRY_CODES.has(value), {
            error: (issue) => {
              const code = String(issue.input)
              const suggestion = code === 'UK' ? ' (the United Kingdom is GB)' : ''
              return `must be an ISO 3166-1 alpha-2 country code such as US or DE, got "${code}"${suggestion}`
            },
          }),
        ),
      )
    },
  },
  region: {
    description: 'Free-text region, up to 64 characters (e.g. emea).',
    helpValue: '<region>',
    label: 'Region',
    property: 'region',
    get schema() {
      return lazySchema('region', () => optionalText().check(z.refine((value) => value === null || characters(value) <= 64, {error: 'must be at most 64 characters'})))
    },
  },
  status: {
    description: 'active (default), inactive or suspended.',
    label: 'Status',
    options: TENANT_STATUSES,
    property: 'status',
    get schema() {
      return lazySchema('status', () =>
        z.pipe(
          optionalText((value) => value.toLowerCase()),
          z.pipe(
            z.transform((value: string | null) => value ?? 'active'),
            z.enum(TENANT_STATUSES, {error: `must be one of ${TENANT_STATUSES.join(', ')}`}),
          ),
        ),
      )
    },
  },
} as const satisfies Record<string, FieldSpec>

export type TenantField = keyof typeof TENANT_FIELD_SPECS

/** The fields in their CSV column order. */
export const TENANT_FIELDS = Object.keys(TENANT_FIELD_SPECS) as TenantField[]

/** Raw values as they come from flags or a CSV row: text, possibly blank. */
export type TenantFieldsInput = Partial<Record<TenantField, string | null | undefined>>

/** A valid tenant, normalised: trimmed, shop lower-cased, market upper-cased, blanks as null. */
export type TenantFields = {readonly [K in TenantField]: z.output<(typeof TENANT_FIELD_SPECS)[K]['schema']>}

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S

/** The fields under their camelCase names, as JSON results carry them. */
export type TenantProperties = {readonly [K in TenantField as CamelCase<K>]: TenantFields[K]}

/** Snake-case fields (a row, a CSV line) under their camelCase names. */
export function tenantProperties(fields: TenantFields): TenantProperties {
  // A loop, not Object.fromEntries(map): every tenant a list or the API returns passes here.
  const properties: Record<string, string | null> = {}
  for (const field of TENANT_FIELDS) properties[TENANT_FIELD_SPECS[field].property] = fields[field]
  return properties as unknown as TenantProperties
}

/** Just the tenant fields of a row that has more columns. */
export function pickTenantFields(row: TenantFields): TenantFields {
  const fields: Record<string, string | null> = {}
  for (const field of TENANT_FIELDS) fields[field] = row[field]
  return fields as unknown as TenantFields
}

export type TenantFieldsResult = {readonly issues: readonly FieldIssue[]; readonly ok: false} | {readonly ok: true; readonly value: TenantFields}

/**
 * Validates a tenant's fields and reports every problem at once (a CSV row with three
 * mistakes gets three reasons, not one per attempt).
 */
export function parseTenantFields(input: TenantFieldsInput): TenantFieldsResult {
  const valid = validTenantFields(input)
  return valid ? {ok: true, value: valid} : checkTenantFields(input)
}

const TENANT_ID = /^[\w-]+$/
const SHOPIFY_SHOP = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/
const MERCHANT_ID = /^\d{1,20}$/
const TYPES: ReadonlySet<string> = new Set(TENANT_TYPES)
const STATUSES: ReadonlySet<string> = new Set(TENANT_STATUSES)

/** An optional value as the rules read it: trimmed, blank as null; undefined when it is not text. */
function optional(value: string | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return null
  if (typeof value !== 'string') return undefined
  const trimmed = value.trim()
  return trimmed === '' ? null : trimmed
}

/**
 * The fields of a valid tenant, normalised exactly as the rules above do, or undefined for
 * anything else: the rules (zod) then say what is wrong. The same checks written out, so
 * that a bulk import of valid rows does not pay for zod's generality (it was a fifth of
 * `batch tenants create`'s CPU time); test/unit/tenant-fields.test.ts holds the two equal.
 */
export function validTenantFields(input: TenantFieldsInput): TenantFields | undefined {
  const {gmc_merchant_id: merchantInput, name: nameInput, tenant_id: idInput, type: typeInput} = input
  if (typeof idInput !== 'string' || typeof nameInput !== 'string' || typeof typeInput !== 'string') return undefined
  const tenantId = idInput.trim()
  if (tenantId.length > 64 || !TENANT_ID.test(tenantId)) return undefined
  const name = nameInput.trim()
  if (name === '' || (name.length > 200 && characters(name) > 200)) return undefined
  const type = typeInput.trim().toLowerCase()
  if (!TYPES.has(type)) return undefined

  let shop = optional(input.shopify_shop)
  if (shop === undefined || (shop === null) === (type !== 'google_merchant')) return undefined
  if (shop !== null) {
    shop = shop.toLowerCase()
    if (!SHOPIFY_SHOP.test(shop)) return undefined
  }

  const merchant = optional(merchantInput)
  if (merchant === undefined || (merchant === null) === (type !== 'shopify')) return undefined
  if (merchant !== null && !MERCHANT_ID.test(merchant)) return undefined

  let market = optional(input.market)
  if (market === undefined) return undefined
  if (market !== null) {
    market = market.toUpperCase()
    if (!ISO_COUNTRY_CODES.has(market)) return undefined
  }

  const region = optional(input.region)
  if (region === undefined || (region !== null && region.length > 64 && characters(region) > 64)) return undefined
  const statusInput = optional(input.status)
  if (statusInput === undefined) return undefined
  const status = statusInput === null ? 'active' : statusInput.toLowerCase()
  if (!STATUSES.has(status)) return undefined
  return {
    tenant_id: tenantId,
    name,
    type: type as TenantType,
    shopify_shop: shop,
    gmc_merchant_id: merchant,
    market,
    region,
    status: status as TenantStatus,
  }
}

/** The rules themselves (zod): every problem of the input, or its normalised fields. */
export function checkTenantFields(input: TenantFieldsInput): TenantFieldsResult {
  const issues: FieldIssue[] = []
  const value: Record<string, unknown> = {}
  for (const field of TENANT_FIELDS) {
    const result = TENANT_FIELD_SPECS[field].schema.safeParse(input[field])
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
