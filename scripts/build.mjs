// Builds dist/ with esbuild and regenerates oclif.manifest.json.
//
// Why a bundler rather than plain `tsc` output: startup time is a feature of a CLI that
// runs in every CI step and every cron tick. Loading Kysely as ~400 separate ES modules
// costs ~200 ms on a small machine; bundled it costs ~15 ms. Each command stays its own
// entry point (oclif loads only the command that runs) and shared code is split into
// chunks, so a command pays only for what it imports. Type checking is `npm run lint`.
import {execFileSync} from 'node:child_process'
import {readdirSync, rmSync, statSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
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
  join(src, 'run.ts'),
  join(src, 'cli', 'help.ts'),
  ...walk(join(src, 'commands')),
  ...walk(join(src, 'cli', 'hooks')),
].filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))

// @oclif/plugin-autocomplete exports no commands; reach its command files directly.
const pluginInternals = {
  name: 'oclif-plugin-internals',
  setup(build) {
    build.onResolve({filter: /^@oclif\/plugin-autocomplete\/lib\//}, (args) => ({path: join(root, 'node_modules', args.path)}))
  },
}

// pg decides at load time whether it runs on Cloudflare Workers by constructing a `Response`,
// which on Node 20 loads the whole of undici (~10 ms per command). synthex runs on Node.
const pgOnNode = {
  name: 'pg-on-node',
  setup(build) {
    build.onLoad({filter: /[/\\]pg[/\\]lib[/\\]stream\.js$/}, async (args) => {
      const source = await readFile(args.path, 'utf8')
      const patched = source.replace('if (isCloudflareRuntime()) {', 'if (false) {')
      if (patched === source) throw new Error(`pg-on-node: ${args.path} changed; review the patch in scripts/build.mjs`)
      return {contents: patched, loader: 'js'}
    })
  },
}

rmSync(join(root, 'dist'), {force: true, recursive: true})

const result = await esbuild.build({
  absWorkingDir: root,
  banner: {
    // Bundled CommonJS dependencies (oclif, pg) use require(), __dirname and __filename.
    js: [
      "import {createRequire as __sxCreateRequire} from 'node:module';",
      "import {fileURLToPath as __sxFileURLToPath} from 'node:url';",
      "import {dirname as __sxDirname} from 'node:path';",
      'const require = __sxCreateRequire(import.meta.url);',
      'const __filename = __sxFileURLToPath(import.meta.url);',
      'const __dirname = __sxDirname(__filename);',
    ].join(' '),
  },
  bundle: true,
  chunkNames: 'chunks/[name]-[hash]',
  entryPoints,
  // PGlite loads its WebAssembly and data files from beside itself, so it stays a runtime
  // dependency. pg-native is pg's optional native binding; the TypeScript loaders are
  // oclif's development mode, which synthex turns off.
  external: ['@electric-sql/pglite', 'pg-native', 'typescript', 'ts-node', 'tsx'],
  format: 'esm',
  logLevel: 'warning',
  metafile: true,
  outbase: src,
  outdir: join(root, 'dist'),
  platform: 'node',
  plugins: [pluginInternals, pgOnNode],
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
  env: {...process.env, NODE_ENV: 'production', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'},
  stdio: ['ignore', 'ignore', 'inherit'],
})

console.error(`built ${entryPoints.length} entry points into ${relative(process.cwd(), join(root, 'dist')) || 'dist'}`)
