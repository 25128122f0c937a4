import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Environment} from './environment.js'

/**
 * What, in the environment, changes what oclif prints before a command runs. src/run.ts
 * answers `--version` and the root help without loading oclif; it steps aside whenever one
 * of these is set, so that oclif prints what it always did.
 *
 * Kept apart from environment.ts, which loads settings.ts and zod: src/run.ts asks this
 * before anything else is loaded.
 */

/** oclif's debug output is asked for: `DEBUG` (the `debug` package's namespaces) or `SYNTHEX_DEBUG=1|true`. */
export function oclifDebugRequested(source: Environment = process.env): boolean {
  const debug = source.SYNTHEX_DEBUG
  return Boolean(source.DEBUG) || debug === '1' || debug === 'true'
}

/**
 * The files of the user's own that oclif reads at every start, as its Config finds them
 * (node_modules/@oclif/core/lib/config/config.js, `dir()`, `loadTheme()`, and
 * plugin-loader.js, `loadUserPlugins()`): a colour theme, and user-installed plugins.
 */
export function oclifUserFiles(source: Environment = process.env): {plugins: string; theme: string} {
  const home = source.HOME || homedir() || tmpdir()
  const config = source.SYNTHEX_CONFIG_DIR || join(source.XDG_CONFIG_HOME || join(home, '.config'), 'synthex')
  const data = source.SYNTHEX_DATA_DIR || join(source.XDG_DATA_HOME || join(home, '.local', 'share'), 'synthex')
  return {plugins: join(data, 'package.json'), theme: join(config, 'theme.json')}
}
