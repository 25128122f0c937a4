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
    ['src/db/**', 'src/config/**', 'src/crypto/**', 'src/notifiers/**', 'src/errors/**'],
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
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: {'no-console': 'off'},
  },
)
