// Builds dist/ with esbuild and regenerates oclif.manifest.json.
//
// Why a bundler rather than plain `tsc` output: startup time is a feature of a CLI that
// runs in every CI step and every cron tick. Loading Kysely as ~400 separate ES modules
// costs ~200 ms on a small machine; bundled it costs ~15 ms. Each command stays its own
// entry point (oclif loads only the command that runs) and shared code is split into
// chunks, so a command pays only for what it imports. Type checking is `npm run lint`.
import {execFileSync} from 'node:child_process'
import {readdirSync, rmSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import * as esbuild from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = join(root, 'src')

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
}

const entryPoints = [
  ...walk(join(src, 'commands')),
  ...walk(join(src, 'cli', 'hooks')),
].filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))

rmSync(join(root, 'dist'), {force: true, recursive: true})

const result = await esbuild.build({
  absWorkingDir: root,
  banner: {
    // Bundled CommonJS dependencies (pg) call require() for Node built-ins.
    js: "import {createRequire as __synthexCreateRequire} from 'node:module'; const require = __synthexCreateRequire(import.meta.url);",
  },
  bundle: true,
  chunkNames: 'chunks/[name]-[hash]',
  entryPoints,
  // Runtime dependencies that must stay files on disk: oclif reads its own package
  // metadata and plugins, PGlite loads its WebAssembly and data files next to itself.
  external: ['@oclif/core', '@oclif/plugin-help', '@oclif/plugin-autocomplete', '@electric-sql/pglite', 'pg-native'],
  format: 'esm',
  logLevel: 'warning',
  metafile: true,
  outbase: src,
  outdir: join(root, 'dist'),
  platform: 'node',
  sourcemap: 'linked',
  sourcesContent: false,
  splitting: true,
  target: 'node20',
})

if (process.argv.includes('--analyze')) {
  console.log(await esbuild.analyzeMetafile(result.metafile))
}

execFileSync(process.execPath, [join(root, 'node_modules', 'oclif', 'bin', 'run.js'), 'manifest'], {
  cwd: root,
  env: {...process.env, NODE_ENV: 'production'},
  stdio: ['ignore', 'ignore', 'inherit'],
})

console.error(`built ${entryPoints.length} entry points into ${relative(process.cwd(), join(root, 'dist')) || 'dist'}`)
