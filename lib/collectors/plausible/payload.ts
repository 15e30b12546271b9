import { EventType, MAX_HOSTNAME_LENGTH, propertyText, propertyValue, truncateCodePoints, type AnalyticsEvent, type PropertyValue } from '../../event.js'
import type { OutgoingRequest } from '../../batch/types.js'
import { collectorIp } from '../../privacy/index.js'
import type { IpPolicy } from '../../privacy/ip.js'
import { StringMemo } from '../../util.js'
import { sanitizeHeaderValue, truncateUtf8 } from '../text.js'
import {
  PLAUSIBLE_MAX_NAME_LENGTH, PLAUSIBLE_MAX_PROPS, PLAUSIBLE_MAX_PROP_KEY_BYTES, PLAUSIBLE_MAX_PROP_VALUE_BYTES,
  PLAUSIBLE_MAX_REFERRER_BYTES, PLAUSIBLE_MAX_URL_BYTES
} from './limits.js'

/** The JSON body of `POST /api/event`. */
export interface PlausibleEventBody {
  name: string
  url: string
  domain: string
  referrer?: string
  props?: Record<string, string>
  revenue?: { currency: string, amount: string }
  interactive?: boolean
}

// scheme, authority, and the rest (path, query, fragment) of an absolute http(s) URL.
const ABSOLUTE_HTTP_URL = /^(https?):\/\/([^/?#\s]+)(.*)$/i

/**
 * Whether `authority` (maybe `user@`, maybe `:port`) names one of `sites` or a subdomain of one.
 * The Host header is the visitor's to choose, and Plausible takes the URL's hostname for its
 * hostname allow-list and its visitor hash: only a host the site owns is believed. The host is read
 * with the WHATWG URL parser, as Plausible's and every browser's would read the URL: a hand-split
 * took `evil.example\.shop.example` for a subdomain, where the parser reads host `evil.example`
 * (a backslash ends the authority of an http URL). An authority the parser refuses is no site's.
 */
function isSiteHost (authority: string, sites: readonly string[]): boolean {
  // A site sees a handful of Host values: each is parsed once per site list (a URL parse per event cost ~1 µs).
  let memo = siteHosts.get(sites)
  if (memo === undefined) {
    memo = new StringMemo<boolean>((key) => parseIsSiteHost(key, sites), SITE_HOST_MEMO_SIZE, MAX_HOSTNAME_LENGTH + 16)
    siteHosts.set(sites, memo)
  }
  return memo.get(authority)
}

/** Distinct Host values remembered per site list (a forged Host beyond them is parsed each time). */
const SITE_HOST_MEMO_SIZE = 256
const siteHosts = new WeakMap<readonly string[], StringMemo<boolean>>()

function parseIsSiteHost (authority: string, sites: readonly string[]): boolean {
  let host: string
  try {
    host = new URL(`http://${authority}/`).hostname
  } catch {
    return false
  }
  if (host.endsWith('.')) host = host.slice(0, -1)
  for (const site of sites) {
    if (host === site || (host.length > site.length && host.endsWith(site) && host.charCodeAt(host.length - site.length - 1) === 0x2e)) return true
  }
  return false
}

/**
 * The URL to report: the event's absolute URL when its host is the site (or a subdomain of it);
 * else the configured host with the URL's path and query (a relative URL given to `track()` keeps
 * both: `/products?page=2`); else the configured host and the event's path.
 */
export function plausibleUrl (event: Readonly<AnalyticsEvent>, sites: readonly string[]): string {
  let url = event.url
  const absolute = ABSOLUTE_HTTP_URL.exec(url)
  if (absolute !== null) {
    if (!isSiteHost(absolute[2], sites)) url = `https://${sites[0]}${pathOrRoot(absolute[3])}`
  } else if (url.startsWith('/') && !url.startsWith('//')) {
    url = `https://${sites[0]}${url}`
  } else {
    // `data:`, `//host/…` and empty URLs: Plausible refuses the first and files the others under "(none)".
    const path = event.path
    url = `https://${sites[0]}${path.startsWith('/') ? path : `/${path}`}`
  }
  if (url.length * 3 <= PLAUSIBLE_MAX_URL_BYTES) return url
  const cut = truncateUtf8(url, PLAUSIBLE_MAX_URL_BYTES)
  if (cut.length === url.length) return cut
  // Do not leave half a percent-escape at the end: `%E` would make the path undecodable.
  const percent = cut.lastIndexOf('%', cut.length - 1)
  return percent !== -1 && percent >= cut.length - 2 ? cut.slice(0, percent) : cut
}

function pathOrRoot (rest: string): string {
  return rest.startsWith('/') ? rest : `/${rest}`
}

/**
 * Names Plausible gives a meaning of its own: `pageview` counts a page view, `pageleave` and
 * `engagement` feed its engagement metrics (its tracker script sends them). A custom event or
 * action with one of these names would corrupt those figures, so it is refused (counted `invalid`).
 */
export const PLAUSIBLE_RESERVED_NAMES: ReadonlySet<string> = new Set(['pageview', 'pageleave', 'engagement'])

/** Plausible's event name for an event, or '' when it has none. */
export function plausibleName (event: Readonly<AnalyticsEvent>): string {
  let name: string
  switch (event.type) {
    case EventType.PageView: return 'pageview'
    case EventType.Action: name = event.actionName !== '' ? event.actionName : event.eventName; break
    default: name = event.eventName
  }
  // Ecto's validate_length counts graphemes; a grapheme is at least one code point.
  return truncateCodePoints(name, PLAUSIBLE_MAX_NAME_LENGTH)
}

// Elixir's whitespace (Unicode's White_Space property), which Plausible's String.trim_leading uses.
// Not JavaScript's: trimStart() also strips U+FEFF (a value Plausible keeps) and keeps U+0085 (one it drops).
const UNICODE_BLANK = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/

/** Whether Plausible treats a value as blank. */
export function isPlausibleBlank (value: string): boolean {
  return UNICODE_BLANK.test(value)
}

/**
 * Plausible's props: the first 30 non-blank pairs in insertion order (Plausible itself keeps an
 * arbitrary 30), keys cut to 300 bytes and values to 2000 bytes (longer ones make it answer 400).
 * Every value goes as text (a number as `String(n)`, a boolean as `true`/`false`): the Events API
 * documents props as string → string, and its server stringifies whatever else it takes, so text
 * sent by us reads the same in Plausible's filters and is not left to its formatting of floats. A
 * value of no property type (a NaN `beforeSend` put there) is left out. Returns undefined when
 * nothing is left.
 */
export function plausibleProps (properties: Readonly<Record<string, PropertyValue>>): Record<string, string> | undefined {
  let props: Record<string, string> | undefined
  let count = 0
  for (const key in properties) {
    const raw = properties[key]
    const typed = typeof raw === 'string' ? raw : propertyValue(raw)
    if (typed === undefined) continue
    const value = propertyText(typed)
    if (isPlausibleBlank(key) || isPlausibleBlank(value)) continue
    const cutKey = truncateUtf8(key, PLAUSIBLE_MAX_PROP_KEY_BYTES)
    props ??= Object.create(null) as Record<string, string>
    // Two long keys that share their first 300 bytes: the first one wins, as for duplicates.
    if (cutKey in props) continue
    props[cutKey] = truncateUtf8(value, PLAUSIBLE_MAX_PROP_VALUE_BYTES)
    if (++count === PLAUSIBLE_MAX_PROPS) break
  }
  return props
}

/** Builds the body of `POST /api/event` for one event, or returns why it cannot be sent. */
export function plausibleBody (event: Readonly<AnalyticsEvent>, domain: string, sites: readonly string[]): PlausibleEventBody | string {
  const name = plausibleName(event)
  if (isPlausibleBlank(name)) return `a ${event.type} event without a name`
  if (event.type !== EventType.PageView && PLAUSIBLE_RESERVED_NAMES.has(name)) {
    return `a ${event.type} event named "${name}", a name Plausible reserves`
  }
  const body: PlausibleEventBody = { name, url: plausibleUrl(event, sites), domain }
  if (event.referrer !== '') body.referrer = truncateUtf8(event.referrer, PLAUSIBLE_MAX_REFERRER_BYTES)
  const props = plausibleProps(event.properties)
  if (props !== undefined) body.props = props
  if (event.revenue !== undefined) {
    // A decimal string: Plausible accepts one and it keeps every minor unit exactly.
    body.revenue = { currency: event.revenue.currency, amount: event.revenue.toDecimalString() }
  }
  // Actions are not page interactions a visitor made: keep them out of the bounce rate.
  if (event.type === EventType.Action) body.interactive = false
  return body
}

/** Builds the one request that carries an event, or returns why it cannot be sent. */
export function plausibleRequest (event: Readonly<AnalyticsEvent>, path: string, domain: string, sites: readonly string[], ipPolicy: IpPolicy = 'full'): OutgoingRequest | string {
  // Plausible requires the visitor's User-Agent: it feeds the visitor hash and device detection.
  // A made-up one would merge all such events into one "visitor" or get them filtered as a bot.
  const userAgent = sanitizeHeaderValue(event.userAgent)
  if (userAgent === '') return 'no User-Agent (Plausible requires the visitor\'s)'
  const body = plausibleBody(event, domain, sites)
  if (typeof body === 'string') return body
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': userAgent }
  // Without it Plausible sees this server's IP: every visitor merges into one and, on Cloud, a
  // data-centre IP gets the event dropped. Only a real IP (Fastify's trustProxy decided it); an
  // IPv6 zone (`fe80::1%eth0`) is local to this host and means nothing to Plausible.
  const ip = collectorIp(event, ipPolicy)
  if (ip !== '' && !ip.includes('%')) headers['x-forwarded-for'] = ip
  return { path, headers, body: JSON.stringify(body), events: 1 }
}
