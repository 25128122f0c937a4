import {z} from '@hono/zod-openapi'

import {TENANT_FIELD_SPECS, TENANT_FIELDS, TENANT_STATUSES, TENANT_TYPES, type TenantField, type TenantFieldsInput} from '../domain/tenant-fields.js'
import {InvalidInputError} from '../errors/input-errors.js'

/**
 * The API's tenant shapes, from the one definition of the fields (src/domain/tenant-fields.ts):
 * camelCase names in, camelCase out. The schemas here only say what is text; the fields' own
 * rules (a shop domain, a country code) are the domain's, applied by the services, whose
 * errors `inApiNames` turns into the request's own field names.
 */
const PROPERTY_OF = Object.fromEntries(TENANT_FIELDS.map((field) => [field, TENANT_FIELD_SPECS[field].property])) as Record<TenantField, string>
const FIELD_OF = Object.fromEntries(TENANT_FIELDS.map((field) => [TENANT_FIELD_SPECS[field].property, field])) as Record<string, TenantField>

const text = (field: TenantField) => z.string().max(10_000).nullable().optional().openapi({description: TENANT_FIELD_SPECS[field].description})

export const TenantInputSchema = z
  .object(Object.fromEntries(TENANT_FIELDS.map((field) => [PROPERTY_OF[field], text(field)])) as Record<string, ReturnType<typeof text>>)
  .strict()
  .openapi('TenantInput', {example: {name: 'Acme US', shopifyShop: 'acme-us.myshopify.com', tenantId: 'acme-us', type: 'shopify'}})

export const TenantSchema = z
  .object({
    createdAt: z.string().datetime(),
    gmcMerchantId: z.string().nullable(),
    id: z.string().uuid(),
    lastActivityAt: z.string().datetime().nullable(),
    market: z.string().nullable(),
    name: z.string(),
    region: z.string().nullable(),
    shopifyShop: z.string().nullable(),
    status: z.enum(TENANT_STATUSES),
    tenantId: z.string(),
    type: z.enum(TENANT_TYPES),
    updatedAt: z.string().datetime(),
    workspace: z.string(),
  })
  .openapi('Tenant')

/** A request body's camelCase fields as the services take them. */
export function toFieldsInput(body: Record<string, string | null | undefined>): TenantFieldsInput {
  const input: TenantFieldsInput = {}
  for (const [property, value] of Object.entries(body)) {
    const field = FIELD_OF[property]
    if (field) input[field] = value
  }

  return input
}

/** A domain validation error with the API's field names (tenantId, not tenant_id). */
export function inApiNames(error: unknown): unknown {
  if (!(error instanceof InvalidInputError)) return error
  return new InvalidInputError(error.issues.map((issue) => ({field: PROPERTY_OF[issue.field as TenantField] ?? issue.field, message: issue.message})))
}

export const ErrorSchema = z
  .object({error: z.object({code: z.string(), details: z.record(z.string(), z.unknown()).optional(), message: z.string()})})
  .openapi('Error')

/** The error answers every authenticated route may give. */
export const ERROR_RESPONSES = Object.fromEntries(
  [
    [401, 'No valid API key (missing, unknown, revoked or expired).'],
    [403, 'The key lacks the scope.'],
    [422, 'Invalid input, with one issue per field.'],
    [429, 'Too many requests for this key; retry after Retry-After seconds.'],
  ].map(([status, description]) => [status, {content: {'application/json': {schema: ErrorSchema}}, description: description as string}]),
)

/** A JSON response of an OpenAPI route. */
export const jsonResponse = <T>(schema: T, description: string) => ({content: {'application/json': {schema}}, description})

/** The security requirement of routes that need an API key. */
export const BEARER_SECURITY = [{bearer: []}]
