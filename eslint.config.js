import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Layers import only downward (DESIGN.md): each folder lists what it must not reach. */
const layer = (files, forbidden, message) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', {patterns: [{group: forbidden, message}]}],
  },
})

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
  layer(['src/services/**'], ['**/cli/**', '**/commands/**', '@oclif/*', 'ora', 'chalk'], 'services hold the domain: no terminal or CLI code (DESIGN.md)'),
  layer(
    ['src/db/**', 'src/config/**', 'src/crypto/**', 'src/notifiers/**', 'src/errors/**', 'src/text/**'],
    ['**/services/**', '**/cli/**', '**/commands/**', '@oclif/*'],
    'lower layers never import services, cli or commands',
  ),
  layer(
    ['src/net/**'],
    ['**/notifiers/**', '**/db/**', '**/crypto/**', '**/config/**', '**/services/**', '**/cli/**', '**/commands/**', '@oclif/*'],
    'net (outbound HTTP and its address policy) is the bottom layer: it imports nothing of synthex but errors',
  ),
  layer(['src/cli/**'], ['**/commands/**'], 'cli is imported by commands, never the reverse'),
  layer(['src/commands/**'], ['kysely', 'pg', '@electric-sql/pglite'], 'commands hold no SQL: call a service'),
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
