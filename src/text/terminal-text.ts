/**
 * Text from outside synthex (tenant names, an actor, a provider's error body) made safe to
 * show on a terminal. A terminal obeys control characters wherever they come from: ESC
 * starts sequences that clear the screen, recolour text, set the window title or write to
 * the clipboard (OSC 52); CR and BS overwrite what was printed; C1 characters (U+0080 to
 * U+009F) are the 8-bit forms of the same sequences; and the bidirectional overrides and
 * isolates (U+202A to U+202E, U+2066 to U+2069) reorder what follows them ("Trojan
 * Source", CVE-2021-42574). U+2028 and U+2029 end lines in some viewers.
 *
 * Rather than deleting them, which would hide that something was there, each is shown as
 * an escape an operator can read: ESC as `\x1b`, U+202E as `\u202e`.
 */

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g
// eslint-disable-next-line no-control-regex
const UNSAFE_OR_LINE_BREAK = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g
/** Tab, newline and carriage return as a table cell or a log line shows them: runs become one space. */
const LINE_BREAKS = /[\t\n\r]+/g

/** `\x1b` for a control character up to U+00FF, `\u202e` above. */
export function visibleEscape(character: string): string {
  const code = character.codePointAt(0) ?? 0
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** Text for messages: newlines and tabs stay (synthex writes both); every other control character is shown escaped. */
export function terminalText(text: string): string {
  return text.replaceAll(UNSAFE, visibleEscape)
}

/** Text that must stay on one line (a table cell, a log line): newlines and tabs become a space. */
export function terminalLine(text: string): string {
  return text.replaceAll(LINE_BREAKS, ' ').replaceAll(UNSAFE_OR_LINE_BREAK, visibleEscape)
}

/**
 * A JSON document that shows harmlessly on a terminal and still parses to exactly the same
 * value. JSON.stringify escapes C0 characters but writes DEL, C1 and the bidirectional
 * controls as they are; outside strings JSON text is ASCII, so replacing each with its
 * `\uXXXX` escape is valid wherever it occurs.
 */
export function terminalSafeJson(json: string): string {
  return json.replaceAll(UNSAFE, (character) => `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`)
}
