import { EventType, type AnalyticsEvent } from '../../event.js'
import { wellFormed } from '../../text.js'
import type { OutgoingRequest } from '../../batch/types.js'
import { collectorIp } from '../../privacy/index.js'
import type { IpPolicy } from '../../privacy/ip.js'
import { jsonScalar, type JsonScalar } from '../json-values.js'
import { sanitizeHeaderValue, truncateUtf16 } from '../text.js'
import {
  UMAMI_MAX_DATA_KEY_LENGTH, UMAMI_MAX_DATA_PROPERTIES, UMAMI_MAX_DATA_STRING_LENGTH, UMAMI_MAX_HOSTNAME_LENGTH,
  UMAMI_MAX_LANGUAGE_LENGTH, UMAMI_MAX_NAME_LENGTH, UMAMI_MAX_REFERRER_LENGTH, UMAMI_MAX_URL_LENGTH
} from './limits.js'

/** The `payload` of `POST /api/send` for `type: 'event'`: a page view without `name`, a named event with it. */
export interface UmamiPayload {
  website: string
  url: string
  hostname?: string
  language?: string
  referrer?: string
  title?: string
  screen?: string
  name?: string
  data?: Record<string, JsonScalar>
}

export interface UmamiBody {
  type: 'event'
  payload: UmamiPayload
}

// scheme and authority of an absolute http(s) URL: what is left is the path, query and fragment.
const ABSOLUTE_HTTP_URL = /^https?:\/\/[^/?#\s]*/i
// The newest schema refuses names starting with a spreadsheet formula trigger (CSV injection).
const FORMULA_TRIGGERS = /^[=+\-@\t\r]+/
// Keys the newest schema refuses in event data.
const FORBIDDEN_DATA_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * Umami's schema is zod: its limits count JavaScript length (an emoji is two), and it checks the
 * path of the URL it parses, where every non-ASCII character becomes a percent-escape. The URL goes
 * out encoded as that parse would (so the length sent is the length checked), cut at `max` units
 * without leaving half a percent-escape at the end.
 */
function cutUrl (url: string, max: number): string {
  const encoded = encodeURI(wellFormed(url).replace(/%(?![0-9a-f]{2})/gi, '%25')).replace(/%25([0-9a-f]{2})/gi, '%$1')
  const cut = truncateUtf16(encoded, max)
  if (cut.length === url.length) return cut
  const percent = cut.lastIndexOf('%', cut.length - 1)
  return percent !== -1 && percent >= cut.length - 2 ? cut.slice(0, percent) : cut
}

/**
 * The page as Umami's tracker sends it: the path and query, relative (the host goes in
 * `hostname`). A leading `//` would make Umami read the first segment as a host: one slash is kept.
 */
export function umamiUrl (event: Readonly<AnalyticsEvent>): string {
  const absolute = ABSOLUTE_HTTP_URL.exec(event.url)
  let url = absolute !== null ? event.url.slice(absolute[0].length) : event.url.startsWith('/') ? event.url : event.path
  const hash = url.indexOf('#')
  if (hash !== -1) url = url.slice(0, hash)
  url = url.replace(/^\/+/, '/')
  if (!url.startsWith('/')) url = `/${url}`
  return cutUrl(url, UMAMI_MAX_URL_LENGTH)
}

/** Umami's event name, or '' for a page view. */
export function umamiName (event: Readonly<AnalyticsEvent>): string {
  if (event.type === EventType.PageView) return ''
  const name = event.type === EventType.Action && event.actionName !== '' ? event.actionName : event.eventName
  return truncateUtf16(name.replace(FORMULA_TRIGGERS, '').trim(), UMAMI_MAX_NAME_LENGTH).trim()
}

/**
 * Event data: the event's properties as JSON values of their own type (strings cut to 500
 * characters, keys to 100, at most 50), then revenue as the `revenue` (a number in the major unit)
 * and `currency` properties Umami's revenue report reads. Undefined when there is nothing.
 */
export function umamiData (event: Readonly<AnalyticsEvent>): Record<string, JsonScalar> | undefined {
  let data: Record<string, JsonScalar> | undefined
  let count = 0
  const room = UMAMI_MAX_DATA_PROPERTIES - (event.revenue === undefined ? 0 : 2)
  const own = event.properties as Readonly<Record<string, unknown>>
  for (const key in own) {
    if (count === room) break
    let value = jsonScalar(own[key])
    if (value === undefined || FORBIDDEN_DATA_KEYS.has(key)) continue
    if (typeof value === 'string') value = truncateUtf16(value, UMAMI_MAX_DATA_STRING_LENGTH)
    const cutKey = truncateUtf16(key, UMAMI_MAX_DATA_KEY_LENGTH)
    data ??= Object.create(null) as Record<string, JsonScalar>
    // Two long keys that share their first 100 characters: the first one wins.
    if (cutKey in data) continue
    data[cutKey] = value
    count++
  }
  if (event.revenue !== undefined) {
    data ??= Object.create(null) as Record<string, JsonScalar>
    data.revenue = event.revenue.toNumber()
    data.currency = event.revenue.currency
  }
  return data
}

/** The body of `POST /api/send` for one event, or why it cannot be sent. */
export function umamiBody (event: Readonly<AnalyticsEvent>, websiteId: string): UmamiBody | string {
  const payload: UmamiPayload = { website: websiteId, url: umamiUrl(event) }
  if (event.hostname !== '') payload.hostname = truncateUtf16(event.hostname, UMAMI_MAX_HOSTNAME_LENGTH)
  if (event.locale !== '') payload.language = truncateUtf16(event.locale, UMAMI_MAX_LANGUAGE_LENGTH)
  // Umami parses the referrer as a URL: only an http(s) one, cut to its limit.
  if (ABSOLUTE_HTTP_URL.test(event.referrer)) payload.referrer = cutUrl(event.referrer, UMAMI_MAX_REFERRER_LENGTH)
  if (event.type !== EventType.PageView) {
    const name = umamiName(event)
    // Without a name Umami would count the event as a page view.
    if (name === '') return `a ${event.type} event without a name Umami can take`
    payload.name = name
  }
  const data = umamiData(event)
  if (data !== undefined) payload.data = data
  return { type: 'event', payload }
}

/** Builds the one request that carries an event, or returns why it cannot be sent. */
export function umamiRequest (event: Readonly<AnalyticsEvent>, path: string, websiteId: string, ipPolicy: IpPolicy, ipHeader: string): OutgoingRequest | string {
  // Umami reads the browser, OS and device from the User-Agent header and drops bots by it; its
  // session id hashes it with the IP. This server's own User-Agent would merge every visitor into
  // one and, being a library's, be taken for a bot: an event without the visitor's is not sent.
  const userAgent = sanitizeHeaderValue(event.userAgent)
  if (userAgent === '') return 'no User-Agent (Umami needs the visitor\'s)'
  const body = umamiBody(event, websiteId)
  if (typeof body === 'string') return body
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': userAgent }
  // Only a real IP (Fastify's trustProxy decided it); an IPv6 zone is local to this host.
  const ip = collectorIp(event, ipPolicy)
  if (ip !== '' && !ip.includes('%')) headers[ipHeader] = ip
  return { path, headers, body: JSON.stringify(body), events: 1 }
}
