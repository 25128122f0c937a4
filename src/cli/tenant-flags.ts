import {Args, Flags, type Interfaces} from '@oclif/core'

import {TENANT_FIELD_SPECS, TENANT_FIELDS, type TenantField, type TenantFieldsInput} from '../domain/tenant-fields.js'
import {InvalidInputError} from '../errors/input-errors.js'

/** The `<tenant-id>` argument of every command about one tenant. */
export const tenantIdArg = Args.string({description: "The tenant's id in its workspace.", required: true})

/** `shopify_shop` is typed as `--shopify-shop`. */
export const flagOf = (field: TenantField): string => field.replaceAll('_', '-')

type FieldFlags = Record<string, Interfaces.OptionFlag<string | undefined>>

/**
 * The tenant fields as flags, made from their one definition (src/domain/tenant-fields.ts).
 * Values are validated by the same rules as CSV rows, not by oclif, so that a command line
 * and a CSV row get the same answer for the same value. `tenant_id` is a flag of `create`
 * only: the commands about one tenant take it as their argument.
 */
function fieldFlags(fields: readonly TenantField[]): FieldFlags {
  return Object.fromEntries(
    fields.map((field) => {
      const spec: {description: string; helpValue?: string; options?: readonly string[]} = TENANT_FIELD_SPECS[field]
      return [flagOf(field), Flags.string({description: spec.description, ...(spec.helpValue ? {helpValue: spec.helpValue} : {}), ...(spec.options ? {options: [...spec.options]} : {})})]
    }),
  )
}

/** Every field but the id, for `update`. */
export const tenantFieldFlags: FieldFlags = fieldFlags(TENANT_FIELDS.filter((field) => field !== 'tenant_id'))
/** Every field, for `create`. */
export const tenantCreateFlags: FieldFlags = fieldFlags(TENANT_FIELDS)

export function tenantFieldsFromFlags(flags: Readonly<Record<string, unknown>>): TenantFieldsInput {
  return Object.fromEntries(TENANT_FIELDS.map((field) => [field, flags[flagOf(field)] as string | undefined]))
}

/** Re-words field issues in terms of the flags the user typed (`--shopify-shop`, not `shopify_shop`). */
export async function withFlagNames<R>(work: () => Promise<R>): Promise<R> {
  try {
    return await work()
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error
    const known = new Set<string>(TENANT_FIELDS)
    throw new InvalidInputError(
      error.issues.map((issue) => ({...issue, field: known.has(issue.field) ? `--${flagOf(issue.field as TenantField)}` : issue.field})),
      error.hint,
    )
  }
}
