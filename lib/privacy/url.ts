import { redactEmails } from './email.js'

/** What leaves of a URL's query: only allow-listed parameters, all of them, or none. */
export type QueryPolicy = 'allowlist' | 'keep' | 'drop'

/**
 * Parameters `'allowlist'` keeps: campaign attribution (the UTM set) and the ad platforms' click
 * ids (Google `gclid`/`gbraid`/`wbraid`, Microsoft `msclkid`, Meta `fbclid`), and `ref`. They say
 * where a visit came from; anything else in a query may be a token, a search, an email.
 */
export const DEFAULT_ALLOWED_QUERY: readonly string[] = Object.freeze([
  'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'utm_id',
  'gclid', 'gbraid', 'wbraid', 'msclkid', 'fbclid', 'ref'
])

export interface UrlPolicy {
  query: QueryPolicy
  /** Parameter names kept by `'allowlist'`, compared exactly as they appear (not decoded). */
  allow: ReadonlySet<string>
  redactEmails: boolean
}

/**
 * A URL (absolute, or a path) as it may leave the process: the fragment removed, the query
 * filtered by the policy, emails redacted. Works on any string (hostile ones included) in linear
 * time and never throws.
 *
 * Hand-written rather than `new URL()`: WHATWG parsing normalises the URL (percent-encoding,
 * default ports, `..`), refuses relative and malformed referrers outright, and costs microseconds
 * per event on the request path; here the common URL without `?`, `#` or `@` costs three `indexOf`.
 * Names are compared as they appear: `utm%5Fsource` is not `utm_source`, so an encoded name can
 * only be dropped, never let through.
 */
export function applyUrlPolicy (url: string, policy: UrlPolicy): string {
  // A fragment is the browser's: servers never see one from a browser, and a hand-built URL's may carry anything.
  const hash = url.indexOf('#')
  if (hash !== -1) url = url.slice(0, hash)
  const question = url.indexOf('?')
  if (question !== -1) {
    if (policy.query === 'drop') url = url.slice(0, question)
    else if (policy.query === 'allowlist') url = filterQuery(url, question, policy.allow)
  }
  return policy.redactEmails ? redactEmails(url) : url
}

/** Characters the query filter's scans passed over since the process started: lets tests check it is linear. */
export const queryScanMeter = { chars: 0 }

function filterQuery (url: string, question: number, allow: ReadonlySet<string>): string {
  const base = url.slice(0, question)
  let kept = ''
  let from = question + 1
  const length = url.length
  // The next `=` is looked up again only once passed: `a&a&a&…` without one must not rescan the rest each time.
  let equals = -1
  while (from <= length) {
    let amp = url.indexOf('&', from)
    if (amp === -1) amp = length
    queryScanMeter.chars += amp - from + 1
    if (amp > from) {
      if (equals !== length && equals < from) {
        equals = url.indexOf('=', from)
        if (equals === -1) equals = length
        queryScanMeter.chars += equals - from + 1
      }
      const name = url.slice(from, equals > amp ? amp : equals)
      if (allow.has(name)) kept += (kept === '' ? '' : '&') + url.slice(from, amp)
    }
    from = amp + 1
  }
  return kept === '' ? base : `${base}?${kept}`
}
