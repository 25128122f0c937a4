// Builds dist/ with esbuild and regenerates oclif.manifest.json (and dist/root-help.js).
//
// Why a bundler rather than plain `tsc` output: startup time is a feature of a CLI that
// runs in every CI step and every cron tick. Loading Kysely as ~400 separate ES modules
// costs ~200 ms on a small machine; bundled it costs ~15 ms. Each command stays its own
// entry point (oclif loads only the command that runs) and shared code is split into
// chunks, so a command pays only for what it imports. Type checking is `npm run lint`.
import {execFileSync} from 'node:child_process'
import {readdirSync, rmSync, statSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {dirname, join, relative} from 'node:path'
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

// @oclif/plugin-autocomplete exports no commands; reach its command files directly. The
// quick root help (src/cli/quick-root-help.ts) reaches a few files of @oclif/core the same way.
const pluginInternals = {
  name: 'oclif-plugin-internals',
  setup(build) {
    build.onResolve({filter: /^@oclif\/(plugin-autocomplete|core)\/lib\//}, (args) => ({path: join(root, 'node_modules', args.path)}))
    // ansis, which oclif require()s: the same (CommonJS) file for synthex's own import, not a
    // second copy of it from its ES module build.
    build.onResolve({filter: /^ansis$/}, () => ({path: join(root, 'node_modules', 'ansis', 'index.js')}))
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

// string-width (oclif's help measures every word it wraps with it) first replaces emoji
// through a 10 kB regular expression, which V8 interprets until it has run it often
// enough to compile it: ~15 ms for the 500 words of the root help. Printable ASCII has no
// emoji, no ANSI escape, no control, combining or wide character: its width is its length.
const stringWidthAscii = {
  name: 'string-width-ascii',
  setup(build) {
    const path = join(root, 'node_modules', 'string-width', 'index.js')
    build.onLoad({filter: /[/\\]node_modules[/\\]string-width[/\\]index\.js$/}, async (args) => {
      const source = await readFile(args.path, 'utf8')
      if (args.path !== path) return {contents: source, loader: 'js'}
      const from = "\tstring = stripAnsi(string);\n"
      if (!source.includes(from)) throw new Error(`string-width-ascii: ${args.path} changed; review the patch in scripts/build.mjs`)
      return {contents: source.replace(from, `\tif (/^[\\x20-\\x7e]*$/.test(string)) {\n\t\treturn string.length;\n\t}\n\n${from}`), loader: 'js'}
    })
  },
}

// is-wsl (oclif asks it whether this is WSL, and so does `synthex --version`) imports
// `process` from 'node:process': building that module's ES facade reads every property of
// \`process\`, loading process.report and working out allowedNodeEnvironmentFlags, 2-7 ms at
// every start. The global \`process\` is the same object.
const isWslGlobalProcess = {
  name: 'is-wsl-global-process',
  setup(build) {
    build.onLoad({filter: /[/\\]node_modules[/\\]is-wsl[/\\]index\.js$/}, async (args) => {
      const source = await readFile(args.path, 'utf8')
      const patched = source.replace("import process from 'node:process';\n", '')
      if (patched === source) throw new Error(`is-wsl-global-process: ${args.path} changed; review the patch in scripts/build.mjs`)
      return {contents: patched, loader: 'js'}
    })
  },
}

// oclif's CommonJS modules each require all they might need at the top: the index requires
// every part of oclif, the parts require their dependencies (the spinner's cli-spinners,
// minimatch and tinyglobby for plugins without a manifest, child_process for Windows shells,
// readline, perf_hooks...), so every command ran all of that before doing anything. This
// turns each top-level `const x = require("y")` of @oclif/core/lib into a binding that loads
// "y" the first time one of its properties is used: a command runs only the oclif it uses.
// What runs, and in which order relative to synthex, is otherwise unchanged: oclif's modules
// keep no state that their loading order could change (test/e2e covers help, version,
// suggestions and completion).
const LAZY_REQUIRE = /^(const|var) ([\w$]+) = ((?:__importDefault|__importStar)\()?require\(("[^"]+"|'[^']+')\)(\))?;$/gm
const oclifLazyRequires = {
  name: 'oclif-lazy-requires',
  setup(build) {
    build.onResolve({filter: /^synthex:lazy-require$/}, () => ({namespace: 'synthex-lazy', path: 'lazy-require'}))
    build.onLoad({filter: /.*/, namespace: 'synthex-lazy'}, () => ({contents: LAZY_MODULE, loader: 'js'}))
    build.onLoad({filter: /[/\\]node_modules[/\\]@oclif[/\\]core[/\\]lib[/\\].*\.js$/}, async (args) => {
      let source = await readFile(args.path, 'utf8')
      source = patchOclif(source, args.path)
      let count = 0
      const lazy = source.replace(LAZY_REQUIRE, (line, kind, name, wrapper, specifier, close) => {
        if (Boolean(wrapper) !== Boolean(close)) return line
        count++
        return `${kind} ${name} = __sxLazy(() => ${wrapper ?? ''}require(${specifier})${close ?? ''});`
      })
      // In the index, the namespaces (Args, Errors, Flags...) are made lazy getters too.
      const exported = lazy.replace(/^exports\.(\w+) = __importStar\(require\(("[^"]+")\)\);$/gm, (line, name, specifier) => {
        count++
        return `Object.defineProperty(exports, "${name}", {configurable: true, enumerable: true, get: () => __importStar(require(${specifier}))});`
      })
      return {contents: count > 0 ? `const __sxLazy = require("synthex:lazy-require");\n${exported}` : source, loader: 'js', resolveDir: dirname(args.path)}
    })
  },
}

// A module's exports, loaded on first use. The stand-in forwards every operation (property
// reads and writes, calls, \`in\`, key listing) to the real module, loading it then.
const LAZY_MODULE = `
module.exports = function lazy(load) {
  let loaded = false
  let value
  const real = () => {
    if (!loaded) {
      value = load()
      loaded = true
    }
    return value
  }
  return new Proxy(() => {}, {
    apply: (_, self, args) => Reflect.apply(real(), self, args),
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(real(), key, descriptor),
    deleteProperty: (_, key) => Reflect.deleteProperty(real(), key),
    get: (_, key) => Reflect.get(real(), key),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key)
      return descriptor && {...descriptor, configurable: true}
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
    has: (_, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    set: (_, key, v) => Reflect.set(real(), key, v),
  })
}
`

// Changes to single oclif files, each the same behaviour for less startup time. A change
// that no longer applies (oclif changed) stops the build, to be reviewed.
const OCLIF_PATCHES = [
  {
    // oclif's index warns when Node is older than @oclif/core's own "engines". Bundled, it
    // looks for that package.json beside dist/ (its __dirname is dist/chunks), never finds it
    // and stays silent: all it did was load semver (72 kB). npm enforces synthex's engines.
    file: 'index.js',
    from: /^function checkNodeVersion\(\) \{\n[\s\S]*?require\('semver'\)[\s\S]*?\n\}\n/m,
    to: 'function checkNodeVersion() {}\n',
  },
  {
    // Whether this is WSL: wsl-utils' isWsl is is-wsl's, without the child_process (and dgram,
    // readline...) that wsl-utils loads for its Windows helpers.
    file: join('util', 'os.js'),
    from: "return (await import('wsl-utils')).isWsl ? 'wsl'",
    to: "return (await import('is-wsl')).default ? 'wsl'",
  },
  {
    // The plugin's commands are sorted with localeCompare, whose first call builds an ICU
    // collator (6-9 ms). For ids of lowercase letters, "-" and ":" (synthex's), in the "en",
    // "C" and POSIX locales and with none set, that order is the order of the characters'
    // codes (the root collation ranks "-" < ":" < letters, as ASCII does); anything else
    // still goes through localeCompare.
    file: join('config', 'plugin.js'),
    from: '.sort((a, b) => a.id.localeCompare(b.id));',
    to: '.sort((a, b) => compareCommandIds(a.id, b.id));',
    append: `function compareCommandIds(a, b) {
    const locale = process.env.LC_ALL || process.env.LC_MESSAGES || process.env.LANG || 'C';
    const plain = /^(C|POSIX)([._@]|$)|^en([_.@-]|$)/.test(locale) && /^[a-z:-]*$/.test(a) && /^[a-z:-]*$/.test(b);
    return plain ? (a < b ? -1 : a > b ? 1 : 0) : a.localeCompare(b);
}`,
  },
  {
    // Help texts go through ejs (for `<%= config.bin %>` and the like), which compiles each
    // one into a function: about 1 ms apiece, dozens per help page. A text without a tag
    // ("<%" or "%>") renders to itself, so it is returned as it is.
    file: join('help', 'util.js'),
    from: '        return ejs_1.default.render(t, context);',
    to: "        if (typeof t === 'string' && !t.includes('<%') && !t.includes('%>'))\n            return t;\n        return ejs_1.default.render(t, context);",
  },
]

function patchOclif(source, path) {
  for (const patch of OCLIF_PATCHES) {
    if (!path.endsWith(join('@oclif', 'core', 'lib', patch.file))) continue
    const patched = source.replace(patch.from, patch.to)
    if (patched === source) throw new Error(`oclif-lazy-requires: ${path} changed; review OCLIF_PATCHES in scripts/build.mjs`)
    source = patch.append ? `${patched}\n${patch.append}\n` : patched
  }

  return source
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
  plugins: [pluginInternals, pgOnNode, oclifLazyRequires, stringWidthAscii, isWslGlobalProcess],
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

execFileSync(process.execPath, [join(root, 'scripts', 'root-help-data.mjs')], {
  cwd: root,
  env: {...process.env, NODE_ENV: 'production', OCLIF_SKIP_NEW_VERSION_CHECK: 'true'},
  stdio: ['ignore', 'ignore', 'inherit'],
})

console.error(`built ${entryPoints.length} entry points into ${relative(process.cwd(), join(root, 'dist')) || 'dist'}`)
