import module from 'node:module'

import {printWarningsScrubbed} from './cli/node-warnings.js'
import {readPackageIdentity, userAgent} from './cli/user-agent.js'
import {oclifDebugRequested} from './config/oclif-environment.js'

/**
 * The CLI's entry point, called by bin/run.js. oclif is bundled into dist/ with the rest
 * of synthex (see scripts/build.mjs), so this is where the process meets it.
 *
 * Startup time is a feature (every CI step and cron tick pays it), so this module loads
 * nothing heavy itself: `synthex --version` is answered here without oclif, the root help
 * (`synthex`, `synthex --help`) with oclif's help formatter alone (src/cli/quick-root-help.ts),
 * and everything else loads oclif (src/cli/oclif-main.ts) only once it is needed. Both
 * shortcuts print what oclif prints (test/e2e/startup.test.ts compares them), and step
 * aside when oclif's debug output is asked for.
 */
export async function run(bin: string): Promise<void> {
  enableCompileCache()
  // No warning from Node or a library reaches stderr with a URL, or a password in it, whole.
  printWarningsScrubbed()
  const argv = process.argv.slice(2)
  const quick = !oclifDebugRequested()
  // oclif's own test (node_modules/@oclif/core/lib/main.js): `--version` first, whatever follows.
  if (quick && argv[0] === '--version') {
    process.stdout.write(`${userAgent(readPackageIdentity(new URL('../package.json', bin)))}\n`)
    return
  }

  if (quick && (argv.length === 0 || (argv.length === 1 && argv[0] === '--help'))) {
    const {showRootHelpQuickly} = await import('./cli/quick-root-help.js')
    if (await showRootHelpQuickly(new URL('../dist/root-help.js', bin))) return
  }

  const {runOclif} = await import('./cli/oclif-main.js')
  await runOclif(bin)
}

/**
 * Node 22.1+ keeps V8's compiled code of the modules it loads on disk (in the OS's temporary
 * directory, as TypeScript's own `tsc` does), so that the next run skips most of the
 * parsing and compiling of dist/. Node 20 has no such API: `typeof` first. Turned off by
 * NODE_DISABLE_COMPILE_CACHE=1, as Node documents.
 */
function enableCompileCache(): void {
  const nodeModule = module as {enableCompileCache?: () => unknown}
  if (typeof nodeModule.enableCompileCache !== 'function') return
  try {
    nodeModule.enableCompileCache()
  } catch {
    // A cache that cannot be set up costs time, never the command.
  }
}
