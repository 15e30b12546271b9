import { EventType, truncateCodePoints, type AnalyticsEvent } from '../../event.js'
import type { OutgoingRequest } from '../../batch/types.js'
import { collectorIp } from '../../privacy/index.js'
import type { IpPolicy } from '../../privacy/ip.js'
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

const ABSOLUTE_HTTP_URL = /^https?:\/\/[^/?#\s]/i

/** The URL to report: the event's absolute URL, else one built from the configured domain and the path. */
export function plausibleUrl (event: Readonly<AnalyticsEvent>, fallbackHost: string): string {
  let url = event.url
  if (!ABSOLUTE_HTTP_URL.test(url)) {
    // `data:`, relative and empty URLs: Plausible refuses the first and files the others under "(none)".
    const path = event.path
    url = `https://${fallbackHost}${path.startsWith('/') ? path : `/${path}`}`
  }
  if (url.length * 3 <= PLAUSIBLE_MAX_URL_BYTES) return url
  const cut = truncateUtf8(url, PLAUSIBLE_MAX_URL_BYTES)
  if (cut.length === url.length) return cut
  // Do not leave half a percent-escape at the end: `%E` would make the path undecodable.
  const percent = cut.lastIndexOf('%', cut.length - 1)
  return percent !== -1 && percent >= cut.length - 2 ? cut.slice(0, percent) : cut
}

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

function isBlank (value: string): boolean {
  // Plausible drops props whose key or value is empty after String.trim_leading.
  return value.length === 0 || value.trimStart().length === 0
}

/**
 * Plausible's props: the first 30 non-blank pairs in insertion order (Plausible itself keeps an
 * arbitrary 30), keys cut to 300 bytes and values to 2000 bytes (longer ones make it answer 400).
 * Returns undefined when nothing is left.
 */
export function plausibleProps (properties: Readonly<Record<string, string>>): Record<string, string> | undefined {
  let props: Record<string, string> | undefined
  let count = 0
  for (const key in properties) {
    const value = properties[key]
    if (isBlank(key) || isBlank(value)) continue
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
export function plausibleBody (event: Readonly<AnalyticsEvent>, domain: string, fallbackHost: string): PlausibleEventBody | string {
  const name = plausibleName(event)
  if (name === '') return `a ${event.type} event without a name`
  const body: PlausibleEventBody = { name, url: plausibleUrl(event, fallbackHost), domain }
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
export function plausibleRequest (event: Readonly<AnalyticsEvent>, path: string, domain: string, fallbackHost: string, ipPolicy: IpPolicy = 'full'): OutgoingRequest | string {
  // Plausible requires the visitor's User-Agent: it feeds the visitor hash and device detection.
  // A made-up one would merge all such events into one "visitor" or get them filtered as a bot.
  const userAgent = sanitizeHeaderValue(event.userAgent)
  if (userAgent === '') return 'no User-Agent (Plausible requires the visitor\'s)'
  const body = plausibleBody(event, domain, fallbackHost)
  if (typeof body === 'string') return body
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': userAgent }
  // Without it Plausible sees this server's IP: every visitor merges into one and, on Cloud, a
  // data-centre IP gets the event dropped. Only a real IP (Fastify's trustProxy decided it); an
  // IPv6 zone (`fe80::1%eth0`) is local to this host and means nothing to Plausible.
  const ip = collectorIp(event, ipPolicy)
  if (ip !== '' && !ip.includes('%')) headers['x-forwarded-for'] = ip
  return { path, headers, body: JSON.stringify(body), events: 1 }
}
