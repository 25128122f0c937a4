import {commands} from '@oclif/plugin-help'

// @oclif/plugin-help's command, bundled with synthex's own copy of oclif (scripts/build.mjs).
export default commands.help
