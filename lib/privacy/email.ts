// Hand-written rather than a regular expression: every email pattern a regex engine can run has
// to try each start position, and on hostile input (`aaaa…` with no `@`, or `a@a@a@…`) a
// backtracking engine such as V8's then takes quadratic time. This scanner visits each character
// at most twice, whatever the input.

/** What an email-shaped substring becomes. */
export const EMAIL_REPLACEMENT = '[email]'

/** Characters examined by the scanner since the process started: lets tests check it is linear. */
export const emailScanMeter = { steps: 0 }

// The local part: RFC 5322 atext and `.`, minus the URL delimiters `& = ? / #` (so `?email=alice@…`
// gives `?email=[email]`, not `?[email]`), plus `%` for percent-encoded characters.
const LOCAL = new Uint8Array(128)
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$%'*+-.^_`{|}~") LOCAL[c.charCodeAt(0)] = 1
// A domain: letters, digits, `.` and `-` (internationalised names arrive as punycode or percent-encoded and are left alone).
const DOMAIN = new Uint8Array(128)
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-') DOMAIN[c.charCodeAt(0)] = 1

const AT = 0x40
const PERCENT = 0x25
const DOT = 0x2e
const HYPHEN = 0x2d

function isLocal (code: number): boolean {
  return code < 128 && LOCAL[code] === 1
}

function isDomain (code: number): boolean {
  return code < 128 && DOMAIN[code] === 1
}

function isLetter (code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)
}

// U+FF20 FULLWIDTH COMMERCIAL AT and U+FF0E FULLWIDTH FULL STOP: what a form or an IME lets a
// visitor type, and what a reader (and NFKC normalisation, which some destinations apply) takes for `@` and `.`.
const FULLWIDTH_AT = 0xff20
const FULLWIDTH_DOT = 0xff0e

/**
 * The length of the percent-escape of `hex` (two upper-case hex digits as char codes, `4`,`0` for
 * `@`) at `i`, once (`%40`) or twice encoded (`%2540`, a URL inside a URL's query), else 0.
 * Hex digits compare case-insensitively, as percent-decoding does.
 */
function escapeAt (text: string, i: number, high: number, low: number): number {
  if (text.charCodeAt(i) !== PERCENT) return 0
  let at = i + 1
  // `%25` is an escaped `%`: the escape that follows is decoded on the second pass.
  if (text.charCodeAt(at) === 0x32 && text.charCodeAt(at + 1) === 0x35) at += 2
  if ((text.charCodeAt(at) | 0x20) === (high | 0x20) && (text.charCodeAt(at + 1) | 0x20) === (low | 0x20)) return at + 2 - i
  return 0
}

/** The length of the at-sign at `i`: 1 for `@` or `＠`, 3 for `%40`, 5 for `%2540`, else 0. */
function atSign (text: string, i: number): number {
  const code = text.charCodeAt(i)
  if (code === AT || code === FULLWIDTH_AT) return 1
  return escapeAt(text, i, 0x34, 0x30)
}

/** The length of the domain dot at `i`: 1 for `.` or `．`, 3 for `%2E`, 5 for `%252E`, else 0. */
function domainDot (text: string, i: number): number {
  const code = text.charCodeAt(i)
  if (code === DOT || code === FULLWIDTH_DOT) return 1
  return escapeAt(text, i, 0x32, 0x45)
}

/** Whether the text may hold an at-sign in any form the scanner knows: four native scans. */
function mayHoldAt (text: string): boolean {
  return text.indexOf('@') !== -1 || text.indexOf('%40') !== -1 || text.indexOf('%2540') !== -1 || text.indexOf('\uff20') !== -1
}

/**
 * Replaces every email-shaped substring with `[email]`: `local@domain.tld`, percent-encoded once
 * (`local%40domain%2Etld`) or twice (`local%2540domain.tld`, a URL carried in a query), or typed with
 * the full-width `＠`. The domain needs a dot followed by two letters (`.com`, `.co.uk`); when in
 * doubt it redacts. Linear time: text without an at-sign in one of those forms is returned as is after four native scans.
 */
export function redactEmails (text: string): string {
  if (!mayHoldAt(text)) return text
  const length = text.length
  let out = ''
  let copied = 0
  // A local part never reaches back past the previous at-sign's start (nor a replaced email): this
  // bound is what keeps `a@a@a@…` linear. A `%40` that was not an email may still be part of the next local part.
  let floor = 0
  let i = 0
  while (i < length) {
    emailScanMeter.steps++
    const at = atSign(text, i)
    if (at === 0) { i++; continue }
    let start = i
    while (start > floor && isLocal(text.charCodeAt(start - 1))) { start--; emailScanMeter.steps++ }
    const domainStart = i + at
    let end = domainStart
    let dotLetters = false
    while (end < length) {
      const dot = end > domainStart ? domainDot(text, end) : 0
      if (dot !== 0) {
        if (isLetter(text.charCodeAt(end + dot)) && isLetter(text.charCodeAt(end + dot + 1))) dotLetters = true
        end += dot
      } else if (isDomain(text.charCodeAt(end))) {
        end++
      } else {
        break
      }
      emailScanMeter.steps++
    }
    // A sentence's full stop or a trailing hyphen is not part of the domain.
    while (end > domainStart && (text.charCodeAt(end - 1) === DOT || text.charCodeAt(end - 1) === HYPHEN)) end--
    if (start < i && dotLetters) {
      out += text.slice(copied, start) + EMAIL_REPLACEMENT
      copied = end
      floor = end
      i = end
    } else {
      floor = i
      i = domainStart
    }
  }
  return copied === 0 ? text : out + text.slice(copied)
}
