import type { FastifyRequest } from 'fastify'
import { MAX_FIELD_LENGTH, truncateCodePoints, type AnalyticsEvent } from '../event.js'
import { FST_ANALYTICS_INVALID_OPTION } from '../errors.js'
import { StringMemo } from '../util.js'
import { redactEmails } from './email.js'
import { applyIpPolicy, type IpPolicy } from './ip.js'
import { applyUrlPolicy, DEFAULT_ALLOWED_QUERY, type QueryPolicy, type UrlPolicy } from './url.js'

export { applyIpPolicy, isIpPolicy, type IpPolicy } from './ip.js'
export { applyUrlPolicy, DEFAULT_ALLOWED_QUERY, type QueryPolicy, type UrlPolicy } from './url.js'
export { redactEmails, EMAIL_REPLACEMENT } from './email.js'

/** The plugin's `privacy` option: what of URLs and referrers may leave the process. */
export interface PrivacyOptions {
  /** `'allowlist'` (default) keeps only campaign parameters and `allowQuery`; `'keep'` all; `'drop'` none. */
  query?: QueryPolicy
  /** More query parameter names `'allowlist'` keeps, exactly as they appear in URLs (`page`, `q`). */
  allowQuery?: readonly string[]
  /**
   * Replace email-shaped substrings (percent-encoded once or twice, or with a full-width `＠`) of
   * `url`, `path`, `referrer`, `eventName`, `actionName` and every property value with `[email]`. Default true.
   */
  redactEmails?: boolean
}

/** A visitor's choice for one request, as the `consent` option returns it. */
export type ConsentDecision = 'granted' | 'anonymous' | 'denied'

/**
 * The consent an event was emitted under (`event.consent`). `'anonymous'`: the visitor accepted
 * measurement but not identification — the plugin has already removed `userId` and truncated
 * `clientIP`; collectors must not re-identify (GA4 skips its cookies and tells Google the ad
 * consents are denied). `'granted'`: the `consent` option said so. `''`: no decision was made (no
 * `consent` option, it returned undefined, or the event was tracked outside a request).
 * `'denied'` never reaches a collector.
 */
export type EventConsent = '' | 'granted' | 'anonymous'

const QUERY_POLICIES = new Set<string>(['allowlist', 'keep', 'drop'])
const PRIVACY_KEYS = new Set<string>(['query', 'allowQuery', 'redactEmails'])

/** Checks the `privacy` option once, at registration. */
export function normalizePrivacy (raw: unknown): UrlPolicy {
  if (raw === undefined) return { query: 'allowlist', allow: new Set(DEFAULT_ALLOWED_QUERY), redactEmails: true }
  if (raw === null || typeof raw !== 'object') throw new FST_ANALYTICS_INVALID_OPTION('privacy must be an object')
  const options = raw as Record<string, unknown>
  for (const key of Object.keys(options)) {
    if (!PRIVACY_KEYS.has(key)) throw new FST_ANALYTICS_INVALID_OPTION(`privacy has unknown key "${key.slice(0, 64)}"`)
  }
  const query = options.query ?? 'allowlist'
  if (typeof query !== 'string' || !QUERY_POLICIES.has(query)) {
    throw new FST_ANALYTICS_INVALID_OPTION('privacy.query must be "allowlist", "keep" or "drop"')
  }
  const allowQuery = options.allowQuery ?? []
  if (!Array.isArray(allowQuery) || !allowQuery.every((name) => typeof name === 'string' && name !== '' && !/[&=#?]/.test(name))) {
    throw new FST_ANALYTICS_INVALID_OPTION('privacy.allowQuery must be an array of query parameter names (non-empty, without & = # ?)')
  }
  if (options.redactEmails !== undefined && typeof options.redactEmails !== 'boolean') {
    throw new FST_ANALYTICS_INVALID_OPTION('privacy.redactEmails must be a boolean')
  }
  return {
    query: query as QueryPolicy,
    allow: new Set([...DEFAULT_ALLOWED_QUERY, ...allowQuery as string[]]),
    redactEmails: options.redactEmails ?? true
  }
}

function clean (value: string, policy: UrlPolicy): string {
  if (value === '') return value
  const cleaned = applyUrlPolicy(value, policy)
  // `[email]` can be one character longer than the shortest email it replaces.
  return cleaned.length > MAX_FIELD_LENGTH ? truncateCodePoints(cleaned) : cleaned
}

// A referrer as a browser sends it: an absolute http(s) URL, which WHATWG serialisation never leaves
// with a space, a control character, `"`, `<`, `>` or a backslash. Anything else (`javascript:`,
// `data:`, markup) is no page a visitor came from, and a stored-XSS risk for whatever renders it.
const HTTP_REFERRER = /^https?:\/\/[^\s"<>\\\x00-\x1f\x7f]+$/i

/** The referrer to keep: '' for anything that is not an absolute http(s) URL. */
export function httpReferrer (value: string): string {
  return HTTP_REFERRER.test(value) ? value : ''
}

function cleanReferrer (value: string, policy: UrlPolicy): string {
  return clean(httpReferrer(value), policy)
}

/** Cleaned referrers one registration remembers; longer ones are cleaned every time. */
export const CLEAN_CACHE_SIZE = 1024
export const CLEAN_CACHE_KEY_LENGTH = 256

/**
 * The URL rules of one registration's policy, applied to an event before `beforeSend` and fan-out.
 * Referrers repeat from
 * request to request (a site's own pages, a few search engines) and carry the queries that cost
 * the most to filter: each distinct one is cleaned once, then looked up. URLs and paths are cleaned
 * every time: the URL is a string just built, and hashing it for a lookup cost more than the
 * scans it would save (measured: looking a just-built URL up cost about twice as much as cleaning it).
 */
export class UrlCleaner {
  readonly #policy: UrlPolicy
  readonly #referrers: StringMemo

  constructor (policy: UrlPolicy) {
    this.#policy = policy
    this.#referrers = new StringMemo((value) => cleanReferrer(value, policy), CLEAN_CACHE_SIZE, CLEAN_CACHE_KEY_LENGTH)
  }

  apply (event: AnalyticsEvent): void {
    const policy = this.#policy
    event.url = clean(event.url, policy)
    event.path = clean(event.path, policy)
    if (event.referrer !== '') event.referrer = this.#referrers.get(event.referrer)
    if (!policy.redactEmails) return
    // Names and values an app builds from what a visitor typed (`signup:alice@…`, a form field):
    // the scanner returns text without an at-sign in any form after four native scans.
    event.eventName = redactEmails(event.eventName)
    event.actionName = redactEmails(event.actionName)
    const properties = event.properties
    for (const key in properties) {
      const value = properties[key]
      // Only text can hold an address; numbers and booleans keep their type.
      if (typeof value !== 'string') continue
      const redacted = redactEmails(value)
      if (redacted !== value) properties[key] = redacted
    }
  }

  /** Distinct referrers held: at most {@link CLEAN_CACHE_SIZE}. */
  get size (): number {
    return this.#referrers.size
  }
}

/** Global Privacy Control (`Sec-GPC: 1`, https://privacycg.github.io/gpc-spec/): a request not to sell or share. */
export function hasGpc (request: FastifyRequest): boolean {
  return request.headers['sec-gpc'] === '1'
}

/**
 * The IP a built-in collector sends for an event under its `ip` policy. An `'anonymous'` event
 * gets `'truncate'` at most, even from a collector configured `'full'` (the plugin has truncated it
 * already; this holds for events handed to a collector directly too).
 */
export function collectorIp (event: Readonly<AnalyticsEvent>, policy: IpPolicy): string {
  return applyIpPolicy(event.clientIP, policy === 'full' && event.consent === 'anonymous' ? 'truncate' : policy)
}
