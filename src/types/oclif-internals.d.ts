// Parts of @oclif/core that its package.json does not export, which the root help uses
// without loading the rest of oclif (src/cli/quick-root-help.ts); scripts/build.mjs
// resolves these specifiers to the files. Only what synthex uses is declared.
declare module '@oclif/core/lib/help/formatter.js' {
  import type {Interfaces} from '@oclif/core'

  export class HelpFormatter {
    protected config: Interfaces.Config
    protected opts: Interfaces.HelpOptions
    render: (input: string) => string
    constructor(config: Interfaces.Config, opts?: Partial<Interfaces.HelpOptions>)
    renderList(input: (string | undefined)[][], opts: {indentation: number; multiline?: boolean; spacer?: string; stripAnsi?: boolean}): string
    section(header: string, body: string): string
    wrap(body: string, spacing?: number): string
  }
}

// A CommonJS module: imported from an ES module, its default is the whole `exports`.
declare module '@oclif/core/lib/help/root.js' {
  import type {Interfaces} from '@oclif/core'

  const root: {default: new (config: Interfaces.Config, opts: Interfaces.HelpOptions) => {root(): string}}
  export default root
}

declare module '@oclif/core/lib/ux/theme.js' {
  export function colorize(color: string | undefined, text: string): string
}

declare module '@oclif/core/lib/util/util.js' {
  export function sortBy<T>(array: T[], by: (item: T) => string): T[]
  export function uniqBy<T>(array: T[], by: (item: T) => string): T[]
}
