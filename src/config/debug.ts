import type {Environment} from './environment.js'

/**
 * Whether oclif's debug output is asked for: `DEBUG` (the `debug` package's namespaces) or
 * `SYNTHEX_DEBUG=1|true` (oclif's scoped variable). The shortcuts of src/run.ts, which answer
 * without loading oclif, step aside then, so that oclif prints what it always did.
 *
 * Kept apart from environment.ts, which loads settings.ts and zod: src/run.ts asks this
 * before anything else is loaded.
 */
export function oclifDebugRequested(source: Environment = process.env): boolean {
  const debug = source.SYNTHEX_DEBUG
  return Boolean(source.DEBUG) || debug === '1' || debug === 'true'
}
