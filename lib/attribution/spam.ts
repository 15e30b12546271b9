// Referrer spam: hosts on Matomo's referrer-spam-list (vendored in data/spam.ts) or under one.
import { SPAM_DOMAINS } from './data/spam.js'

// ~2 300 domains: a Set of ~150 KB, built once at load.
const spamDomains: ReadonlySet<string> = new Set(SPAM_DOMAINS.split('\n').filter((line) => line !== ''))

/** The lower-case host of a URL string, read without URL parsing (this runs on every request with a referrer). */
export function hostOf (url: string): string {
  const scheme = url.indexOf('://')
  if (scheme < 0) return ''
  let start = scheme + 3
  let end = start
  while (end < url.length) {
    const c = url.charCodeAt(end)
    if (c === 0x2f || c === 0x3f || c === 0x23) break // / ? #
    if (c === 0x40) start = end + 1 // user:password@host
    end++
  }
  let host = url.slice(start, end)
  const port = host.lastIndexOf(':')
  if (port >= 0 && !host.endsWith(']')) host = host.slice(0, port)
  if (host.endsWith('.')) host = host.slice(0, -1)
  return host.toLowerCase()
}

/** True when `host` or one of its parent domains (down to two labels) is a spam domain. */
export function isSpamHost (host: string): boolean {
  let candidate = host
  // Each turn drops the first label, so the walk ends within the host's label count.
  for (;;) {
    if (spamDomains.has(candidate)) return true
    const dot = candidate.indexOf('.')
    if (dot < 0 || candidate.indexOf('.', dot + 1) < 0) return false
    candidate = candidate.slice(dot + 1)
  }
}
