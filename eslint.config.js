import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * Layers import only downward (docs/architecture.md, "Layers"). From the top: commands, cli
 * and http (serve's HTTP face), services, the adapters (notifiers, exporters, db, crypto), the generic helpers (net, text,
 * util), config, domain, errors. Each folder lists what it must not reach.
 */
const layer = (files, forbidden, message) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {patterns: [{group: forbidden, message}]}],
  },
})

const above = {
  adapters: ['**/services/**', '**/cli/**', '**/http/**', '**/commands/**', '@oclif/*', 'ora', 'hono', 'hono/*', '@hono/*'],
  get helpers() {
    return [...this.adapters, '**/notifiers/**', '**/exporters/**', '**/db/**', '**/crypto/**']
  },
  get config() {
    return [...this.helpers, '**/net/**', '**/text/**', '**/util/**']
  },
  get domain() {
    return [...this.config, '**/config/**', 'kysely', 'pg', '@electric-sql/pglite']
  },
  get errors() {
    return [...this.domain, '**/domain/**']
  },
}

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'coverage/', 'oclif.manifest.json']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {console: 'readonly', process: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly'}},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
      eqeqeq: ['error', 'always'],
      'no-console': ['error'],
    },
  },
  layer(['src/services/**'], ['**/cli/**', '**/http/**', '**/commands/**', '@oclif/*', 'ora', 'chalk', 'hono', 'hono/*', '@hono/*'], 'services hold the domain: no terminal, CLI or HTTP code'),
  layer(['src/notifiers/**', 'src/exporters/**', 'src/db/**', 'src/crypto/**'], above.adapters, 'adapters (notifiers, exporters, db, crypto) never import services, cli or commands'),
  layer(['src/net/**', 'src/text/**', 'src/util/**'], above.helpers, 'net, text and util are generic helpers: they import no adapter, service, cli or command'),
  layer(['src/config/**'], above.config, 'config reads the environment and settings; it imports only domain and errors'),
  layer(['src/domain/**'], above.domain, 'domain holds the shared words every layer may use: it imports only errors'),
  layer(['src/errors/**'], above.errors, 'errors are the bottom layer: they import nothing of synthex'),
  {
    // src/config/ is the only reader of the environment: everything else takes typed settings.
    files: ['src/**'],
    ignores: ['src/config/**'],
    rules: {'no-restricted-properties': ['error', {message: 'Read the environment in src/config/ (environment.ts, settings.ts) and pass the typed value.', object: 'process', property: 'env'}]},
  },
  layer(['src/cli/**'], ['**/commands/**'], 'cli is imported by commands, never the reverse'),
  layer(['src/commands/**'], ['kysely', 'pg', '@electric-sql/pglite'], 'commands hold no SQL: call a service'),
  layer(['src/http/**'], ['**/commands/**', '@oclif/*', 'ora', 'chalk', 'kysely', 'pg', '@electric-sql/pglite'], 'http is serve\'s face: routes are thin, the SQL is in services, nothing of the terminal'),
  {
    // A number typed on the command line is checked where it enters (src/cli/integer-flags.ts).
    files: ['src/commands/**', 'src/cli/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          message: 'Use idArg or an Args.custom parser from src/cli/integer-flags.ts: oclif reports Args.integer errors as a bug in synthex, and has no upper bound.',
          selector: "CallExpression[callee.object.name='Args'][callee.property.name='integer']",
        },
        {
          message: 'An integer flag needs a max (or use integerFlag from src/cli/integer-flags.ts): an unbounded number reaches SQL or a date as 1e+23.',
          selector: "CallExpression[callee.object.name='Flags'][callee.property.name='integer']:not(:has(Property[key.name='max']))",
        },
      ],
    },
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: {'no-console': 'off'},
  },
)
