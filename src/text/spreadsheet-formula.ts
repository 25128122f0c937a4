/**
 * CSV cells that a spreadsheet would run as a formula ("CSV Injection", OWASP): a cell that
 * starts with `=`, `+`, `-`, `@`, a tab or a carriage return. A name such as
 * `=HYPERLINK("https://evil.example", "Click")` exported by `--csv` and opened in Excel or
 * LibreOffice becomes a live link or a command. The OWASP remedy is to start such a cell
 * with a single quote, which spreadsheets take as "this is text" and do not show.
 *
 * synthex writes cells through `neutraliseFormula` and its import reads them through
 * `restoreFormula`, so an export fed back to the import gives exactly the values it came
 * from. A cell that already starts with quotes before a formula character gets one more,
 * so that a value such as `'=x` survives the round trip too.
 *
 * A negative number (`-12`, `-0.5`) is left as it is: a spreadsheet reads it as a number
 * and runs nothing, and quoting it would turn a numeric column into text.
 */

const FORMULA_START = /^'*[=+\-@\t\r]/
const NEGATIVE_NUMBER = /^-\d+(?:\.\d+)?$/

/** The cell as written to a CSV file: a formula is turned into text. */
export function neutraliseFormula(cell: string): string {
  return FORMULA_START.test(cell) && !NEGATIVE_NUMBER.test(cell) ? `'${cell}` : cell
}

/** The value of a cell read from a CSV file: the quote `neutraliseFormula` added is taken off. */
export function restoreFormula(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell) ? cell.slice(1) : cell
}
