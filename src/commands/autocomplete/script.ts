// @oclif/plugin-autocomplete's command, bundled with synthex's own copy of oclif (scripts/build.mjs).
export {default} from '@oclif/plugin-autocomplete/lib/commands/autocomplete/script.js'
