// What a Referer header names: its host, and the search engine, social network, AI assistant,
// video or shopping site that host is.
import { sourceOfHost, withoutWww, type KnownSource } from './hosts.js'
import type { SourceKind } from './sources.js'

/** A referrer read: a named source, or a plain site (`kind` '', `name` its host without `www.`). */
export interface ReferrerSource {
  /** Lower case, without `www.`: compared with the site's own host. */
  readonly host: string
  readonly name: string
  readonly kind: SourceKind
  /** Set for a search engine that counts only with one of these parameters in the referrer. */
  readonly keywordParams: readonly string[]
}

/** A referrer that names no host (empty, not a URL, `about:blank`). */
const NO_REFERRER: ReferrerSource = Object.freeze({ host: '', name: '', kind: '', keywordParams: [] })

/**
 * The origin part of a URL string (`https://www.google.com` of `https://www.google.com/search?q=x`):
 * the memo key, so every page of one referring site shares one entry.
 */
export function originOf (referrer: string): string {
  const scheme = referrer.indexOf('://')
  if (scheme < 0) return referrer
  let end = scheme + 3
  while (end < referrer.length) {
    const c = referrer.charCodeAt(end)
    if (c === 0x2f || c === 0x3f || c === 0x23) break // / ? #
    end++
  }
  return referrer.slice(0, end)
}

/**
 * The lower-case host of a URL string, read off the string: `new URL()` costs ~1 µs and this runs
 * for every referrer the memos have not seen (and for the spam check on every request with one).
 * No scheme → ''. User info, port and a trailing root dot are dropped.
 */
export function hostOf (url: string): string {
  const scheme = url.indexOf('://')
  if (scheme <= 0) return ''
  let start = scheme + 3
  let end = start
  while (end < url.length) {
    const c = url.charCodeAt(end)
    if (c === 0x2f || c === 0x3f || c === 0x23 || c === 0x5c) break // / ? # \
    if (c === 0x40) start = end + 1 // user:password@host
    end++
  }
  let host = url.slice(start, end)
  const port = host.lastIndexOf(':')
  if (port >= 0 && !host.endsWith(']')) host = host.slice(0, port)
  if (host.endsWith('.')) host = host.slice(0, -1)
  return host.toLowerCase()
}

// A host as a browser sends it: letters, digits, '-', '.', '_' (and an IPv6 literal in brackets).
// Anything else (spaces, percent escapes, raw Unicode) is no referrer we can name.
const PLAIN_HOST = /^(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])$/

/** Reads an origin (`originOf`): its host classified. Pure; memoised by the caller. */
export function readReferrerOrigin (origin: string): ReferrerSource {
  const host = hostOf(origin)
  if (host === '' || !PLAIN_HOST.test(host)) return NO_REFERRER
  const known: KnownSource | undefined = sourceOfHost(host)
  const bare = withoutWww(host)
  if (known === undefined) return Object.freeze({ host: bare, name: bare, kind: '', keywordParams: [] })
  return Object.freeze({ host: bare, name: known.name, kind: known.kind, keywordParams: known.keywordParams })
}

/**
 * A search engine that needs a keyword parameter but whose referrer has none is a plain site:
 * Matomo's rule for portals whose own pages are not search results.
 */
export function confirmKeyword (source: ReferrerSource, referrer: string): ReferrerSource {
  if (source.keywordParams.length === 0) return source
  const start = referrer.indexOf('?')
  if (start >= 0) {
    const query = new URLSearchParams(referrer.slice(start + 1))
    for (const param of source.keywordParams) if ((query.get(param) ?? '') !== '') return source
  }
  return { host: source.host, name: source.host, kind: '', keywordParams: [] }
}
