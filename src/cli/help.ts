import {Help} from '@oclif/core/help'

import {rootHelpEpilogue} from './root-help-sections.js'

/**
 * synthex's help. The root help, which is also what `synthex` alone prints, ends with where
 * the data lives and what to do next (src/cli/root-help-sections.ts). `synthex` and
 * `synthex --help` are usually answered without oclif, by src/cli/quick-root-help.ts, which
 * prints the same.
 */
export default class SynthexHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    await super.showRootHelp()
    for (const line of rootHelpEpilogue(this, this.config.bin)) this.log(line)
  }
}
