// Loads one of synthex's TypeScript modules in a benchmark (to prepare data the way the CLI
// would, e.g. sealed credentials), by bundling it with esbuild into a temporary file.
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'

import * as esbuild from 'esbuild'

import {ROOT} from './measure.mjs'

export async function importSource(path) {
  const outfile = join(mkdtempSync(join(tmpdir(), 'synthex-bench-source-')), 'module.mjs')
  await esbuild.build({
    banner: {js: "import {createRequire as __cr} from 'node:module'; const require = __cr(import.meta.url);"},
    bundle: true,
    entryPoints: [join(ROOT, path)],
    external: ['@electric-sql/pglite', 'pg-native'],
    format: 'esm',
    logLevel: 'warning',
    outfile,
    platform: 'node',
  })
  return import(pathToFileURL(outfile).href)
}
