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

/** The length of the at-sign at `i`: 1 for `@`, 3 for `%40` (percent-encoded), else 0. */
function atSign (text: string, i: number): number {
  const code = text.charCodeAt(i)
  if (code === AT) return 1
  if (code === PERCENT && text.charCodeAt(i + 1) === 0x34 && text.charCodeAt(i + 2) === 0x30) return 3
  return 0
}

/**
 * Replaces every email-shaped substring (`local@domain.tld`, or `local%40domain.tld` as it looks
 * percent-encoded in a URL) with `[email]`. The domain needs a dot followed by two letters (`.com`,
 * `.co.uk`); when in doubt it redacts. Linear time: text without `@` or `%40` is returned as is after
 * two native scans.
 */
export function redactEmails (text: string): string {
  if (text.indexOf('@') === -1 && text.indexOf('%40') === -1) return text
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
    while (end < length && isDomain(text.charCodeAt(end))) {
      if (end > domainStart && text.charCodeAt(end) === DOT && isLetter(text.charCodeAt(end + 1)) && isLetter(text.charCodeAt(end + 2))) dotLetters = true
      end++
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
