// @oclif/plugin-autocomplete exports no commands from its entry point; synthex bundles them
// by path (scripts/build.mjs resolves these specifiers to the files).
declare module '@oclif/plugin-autocomplete/lib/commands/autocomplete/*.js' {
  import type {Command} from '@oclif/core'

  const command: typeof Command
  export default command
}
