import { isIP } from 'node:net'

// What a destination may receive under the plugin's privacy policy, as a validator for the test
// sinks. Written from the rules with the platform's own parsers (WHATWG URL, node:net), not
// with lib/privacy: sharing its code would make the tests agree with its mistakes.

/** The query parameters the default `'allowlist'` keeps (issue 9). */
export const STANDARD_QUERY = [
  'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'utm_id',
  'gclid', 'gbraid', 'wbraid', 'msclkid', 'fbclid', 'ref'
] as const

export interface PrivacyExpectations {
  /** Query parameter names that may arrive (as URLSearchParams decodes them). Default STANDARD_QUERY. */
  allowQuery?: readonly string[]
  /** What the visitor's IP must look like. */
  ip?: 'full' | 'truncate' | 'none'
  /** The visitor chose 'anonymous': no user id, the IP truncated at most, GA4 ad consents denied. */
  anonymous?: boolean
}

// A reference pattern for email-shaped text, plain or percent-encoded; test inputs are short, so
// its backtracking does not matter here.
const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/

/**
 * Whether `text` carries an email in any form a reader would recover: as is, percent-decoded once
 * or twice (`%2540` is `%40` is `@`), or after NFKC (the full-width `＠` and `．` are `@` and `.`).
 */
export function hasEmail (text: string): boolean {
  let current = text
  for (let pass = 0; pass < 3; pass++) {
    if (EMAIL.test(current) || EMAIL.test(current.normalize('NFKC'))) return true
    try {
      const decoded = decodeURIComponent(current)
      if (decoded === current) return false
      current = decoded
    } catch {
      return false
    }
  }
  return false
}

/** A referrer must be '' or an absolute http(s) URL (never `javascript:`, `data:` or markup). */
export function referrerViolations (label: string, referrer: string): string[] {
  if (referrer === '') return []
  let url: URL
  try {
    url = new URL(referrer)
  } catch {
    return [`${label} is not a URL: ${JSON.stringify(referrer.slice(0, 80))}`]
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return [`${label} has scheme ${url.protocol}`]
  if (/[<>"\s]/.test(referrer)) return [`${label} carries markup or spaces: ${JSON.stringify(referrer.slice(0, 80))}`]
  return []
}

/** Every way `url` (absolute, or a path) breaks the URL policy. */
export function urlViolations (label: string, url: string, expect: PrivacyExpectations): string[] {
  const violations: string[] = []
  const allowed = new Set(expect.allowQuery ?? STANDARD_QUERY)
  if (url.includes('#')) violations.push(`${label} carries a fragment: ${JSON.stringify(url)}`)
  if (hasEmail(url)) violations.push(`${label} carries an email: ${JSON.stringify(url)}`)
  if (/referrer/i.test(label)) violations.push(...referrerViolations(label, url))
  const question = url.indexOf('?')
  if (question !== -1) {
    for (const name of new URLSearchParams(url.slice(question + 1)).keys()) {
      if (!allowed.has(name)) violations.push(`${label} carries query parameter ${JSON.stringify(name)}`)
    }
  }
  return violations
}

/** Whether `ip` keeps no more than its IPv4 /24 or IPv6 /48. */
export function isTruncated (ip: string): boolean {
  const family = isIP(ip)
  if (family === 4) return ip.endsWith('.0')
  if (family !== 6) return false
  // A /48 written compactly is at most three groups and then `::` (2001:db8:abcd::).
  return ip.endsWith('::') && ip.split(':').filter((group) => group !== '').length <= 3
}

/** Every way a received IP (undefined or '' when none was sent) breaks the IP policy. */
export function ipViolations (label: string, ip: string | undefined, expect: PrivacyExpectations): string[] {
  const policy = expect.anonymous === true && (expect.ip ?? 'full') === 'full' ? 'truncate' : expect.ip
  if (policy === undefined) return []
  const sent = ip ?? ''
  if (policy === 'none') return sent === '' ? [] : [`${label} ${JSON.stringify(sent)} sent under ip: 'none'`]
  if (policy === 'truncate' && sent !== '' && !isTruncated(sent)) return [`${label} ${JSON.stringify(sent)} is not truncated to /24 or /48`]
  return []
}
