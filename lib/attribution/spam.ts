// Referrer spam: hosts on Matomo's referrer-spam-list (vendored in data/spam.ts) or under one.
import { SPAM_DOMAINS } from './data/spam.js'

// ~2 300 domains: a Set of ~150 KB, built at the first lookup (not at import: off the cold start).
let spamDomains: ReadonlySet<string> | undefined

/** True when `host` or one of its parent domains (down to two labels) is a spam domain. */
export function isSpamHost (host: string): boolean {
  spamDomains ??= new Set(SPAM_DOMAINS.split('\n').filter((line) => line !== ''))
  let candidate = host
  // Each turn drops the first label, so the walk ends within the host's label count.
  for (;;) {
    if (spamDomains.has(candidate)) return true
    const dot = candidate.indexOf('.')
    if (dot < 0 || candidate.indexOf('.', dot + 1) < 0) return false
    candidate = candidate.slice(dot + 1)
  }
}
