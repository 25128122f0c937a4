import {Flags} from '@oclif/core'

/** Flags many commands share, said the same way everywhere. */

/** `--csv` on a list: CSV instead of the table (never with --json). */
export const csvFlag = (description = 'Print CSV instead of a table.') => Flags.boolean({description, exclusive: ['json']})

/** `--yes` on a destructive command: required where nobody can answer the confirmation. */
export const yesFlag = () => Flags.boolean({char: 'y', description: 'Do not ask for confirmation.'})

/** `--ignore-unknown-columns` on imports: spreadsheets carry notes and owner columns. */
export const ignoreUnknownColumnsFlag = () =>
  Flags.boolean({description: 'Skip columns the import does not know (notes, owner...) instead of refusing the file; they are named in the summary.'})
