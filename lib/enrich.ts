import type { FastifyRequest } from 'fastify'
import { boundField, MAX_HOSTNAME_LENGTH, type AnalyticsEvent, type TextCuts } from './event.js'
import type { RequestFacts } from './pipeline/facts.js'
import { StringMemo } from './util.js'

/** Request-derived values that come from user callbacks (`locale`, `userId` options). */
export interface EnrichOptions {
  locale: ((request: FastifyRequest) => string | undefined) | undefined
  userId: ((request: FastifyRequest) => string | number | undefined) | undefined
  /** Called when a user callback throws: enrichment never throws. */
  onCallbackError: (option: 'locale' | 'userId', error: unknown, request: FastifyRequest) => void
  /** Where a field cut to its cap is reported (`stats().events.truncated`). */
  cuts: TextCuts
}

// Collectors key caches on the hostname (GA4's client-id cache): bounded like every visitor-controlled field.
export { MAX_HOSTNAME_LENGTH }

// A BCP 47-shaped tag; the header is cut before matching so a hostile header costs nothing.
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8}){0,7}$/
const MAX_ACCEPT_LANGUAGE_SCAN = 128

// Browsers send a handful of distinct Accept-Language headers: each is parsed once.
const languageTags = new StringMemo(parseLanguageTag, 256, MAX_ACCEPT_LANGUAGE_SCAN)

/** The first language of an `Accept-Language` header (`en-GB,en;q=0.9` → `en-GB`), or ''. */
export function firstLanguageTag (header: string | string[] | undefined): string {
  if (Array.isArray(header)) header = header[0]
  if (typeof header !== 'string' || header.length === 0) return ''
  return languageTags.get(header)
}

function parseLanguageTag (header: string): string {
  const scan = header.length > MAX_ACCEPT_LANGUAGE_SCAN ? header.slice(0, MAX_ACCEPT_LANGUAGE_SCAN) : header
  let end = scan.length
  const comma = scan.indexOf(',')
  if (comma !== -1) end = comma
  const semicolon = scan.indexOf(';')
  if (semicolon !== -1 && semicolon < end) end = semicolon
  const tag = scan.slice(0, end).trim()
  return LANGUAGE_TAG.test(tag) ? tag : ''
}

/** `request.user.id` or `.sub` when an auth plugin set one (strings and numbers only). */
function userFromRequest (request: FastifyRequest): string {
  const user = (request as { user?: unknown }).user
  if (user === null || typeof user !== 'object') return ''
  const { id, sub } = user as { id?: unknown, sub?: unknown }
  const value = id ?? sub
  if (typeof value === 'string') return value
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : ''
}

function stringOrEmpty (value: unknown): string {
  if (typeof value === 'string') return value
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : ''
}

export function resolveUserId (request: FastifyRequest, options: EnrichOptions): string {
  if (options.userId === undefined) return userFromRequest(request)
  try {
    return stringOrEmpty(options.userId(request))
  } catch (error) {
    options.onCallbackError('userId', error, request)
    return ''
  }
}

/** The `locale` option's answer; undefined without the option (the pipeline reads `Accept-Language`). */
export function resolveLocale (request: FastifyRequest, options: EnrichOptions): string | undefined {
  if (options.locale === undefined) return undefined
  try {
    return stringOrEmpty(options.locale(request))
  } catch (error) {
    options.onCallbackError('locale', error, request)
    return ''
  }
}

/** `protocol://host/path?query`, without the scheme's default port (`Host: shop.example:443` over https). */
function absoluteUrl (protocol: string, host: string, url: string): string {
  if ((protocol === 'http' && host.endsWith(':80')) || (protocol === 'https' && host.endsWith(':443'))) {
    host = host.slice(0, host.lastIndexOf(':'))
  }
  return `${protocol}://${host}${url}`
}

/** The query-less path of a request URL. */
export function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/**
 * `request.hostname` from `request.host`, which the URL needs anyway: Fastify's getter reads the
 * host again and splits it into an array per call (`[::1]:3000` → `[::1]`, `shop.example:8080` →
 * `shop.example`, as Fastify 5 does).
 */
export function hostnameOf (host: string): string {
  if (host.charCodeAt(0) === 0x5b) return host.slice(0, host.indexOf(']') + 1) // `[`: an IPv6 literal
  const colon = host.indexOf(':')
  return colon === -1 ? host : host.slice(0, colon)
}

/**
 * Fills the empty fields of an event from its request's facts; explicit values are kept.
 * The client IP is strictly `request.ip`: Fastify's `trustProxy` decides which proxies to believe.
 */
export function enrichFromFacts (event: AnalyticsEvent, facts: RequestFacts, matchedPattern: string, cuts: TextCuts): void {
  const url = facts.url
  if (event.clientIP === '') event.clientIP = boundField('clientIP', facts.ip, cuts)
  if (event.locale === '') event.locale = boundField('locale', facts.locale ?? firstLanguageTag(facts.acceptLanguage), cuts)
  if (event.hostname === '') event.hostname = boundField('hostname', hostnameOf(facts.host), cuts)
  if (event.userId === '' && facts.userId !== undefined) event.userId = boundField('userId', facts.userId, cuts)
  if (event.matchedPattern === '') event.matchedPattern = boundField('matchedPattern', matchedPattern, cuts)
  if (event.url === '') event.url = boundField('url', absoluteUrl(facts.protocol, facts.host, url), cuts)
  if (event.path === '') event.path = boundField('path', pathOf(url), cuts)
  if (event.method === '') event.method = boundField('method', facts.method, cuts)
  if (event.userAgent === '') event.userAgent = boundField('userAgent', facts.userAgent, cuts)
  if (event.referrer === '') event.referrer = boundField('referrer', facts.referrer, cuts)
  event.requestHeaders = facts.headers
}
