import type { FastifyRequest } from 'fastify'
import { NO_REQUEST_HEADERS as NO_HEADERS } from '../event.js'
import { withoutZone } from '../privacy/ip.js'

/**
 * What the request thread reads from a request for its events: plain strings and numbers, taken
 * once, while the request is valid. Every later stage (client, bots, spam, enrichment, privacy,
 * visits, country) works from these alone, so the same stages run on the request thread or in the
 * delivery worker, and no collector needs the live request.
 */
export interface RequestFacts {
  method: string
  /** `request.url`: path and query as the client sent them. */
  url: string
  protocol: string
  /** The Host the client sent (`request.host`), port included. */
  host: string
  /** `request.ip` (Fastify's `trustProxy` decides which proxies to believe), without an IPv6 zone. */
  ip: string
  userAgent: string
  referrer: string
  acceptLanguage: string
  /** `Sec-Purpose`, else `Purpose`: prefetch and prerender say so there. */
  purpose: string
  /** `Sec-GPC: 1`: the visitor asked not to be tracked across sites. */
  gpc: boolean
  /** The Client Hints that name a reduced User-Agent's platform; undefined when not sent. */
  mobileHint: string | undefined
  platformHint: string | undefined
  /** The `geo.header` CDN country header's value; '' when unset or not configured. */
  countryHeader: string
  /** The headers collectors declared (`requestHeaders`), lower-case names; shared by every event of the request. */
  headers: Readonly<Record<string, string>>
  /** The `userId` option's answer, or `request.user`'s id; undefined when the event already had one. */
  userId: string | undefined
  /** The `locale` option's answer; undefined: from `Accept-Language` (or the event already had one). */
  locale: string | undefined
}

/** A header's first value, or ''. */
export function headerValue (value: string | string[] | undefined): string {
  if (typeof value === 'string') return value
  return Array.isArray(value) && typeof value[0] === 'string' ? value[0] : ''
}

/** What the capture needs besides the request: which headers collectors read and how the user's callbacks answered. */
export interface CaptureSettings {
  /** Lower-case names of the headers collectors declared; empty for none. */
  headers: readonly string[]
  /** The `geo.header` option, lower case; undefined when not configured. */
  countryHeader: string | undefined
}

/**
 * Reads a request's facts. Each of `headers`, `host`, `ip` and `url` is a getter on a Fastify
 * request: read once here. `userId` and `locale` are the user's callbacks' answers, asked by the caller.
 */
export function captureFacts (request: FastifyRequest, settings: CaptureSettings, userId: string | undefined, locale: string | undefined): RequestFacts {
  const headers = request.headers
  const mobile = headers['sec-ch-ua-mobile']
  const platform = headers['sec-ch-ua-platform']
  const purpose = headers['sec-purpose'] ?? headers.purpose
  let declared = NO_HEADERS
  if (settings.headers.length > 0) {
    const found = Object.create(null) as Record<string, string>
    for (const name of settings.headers) {
      const value = headerValue(headers[name])
      if (value !== '') found[name] = value
    }
    declared = found
  }
  return {
    method: request.method,
    url: request.url,
    protocol: request.protocol,
    host: request.host ?? '',
    ip: withoutZone(request.ip ?? ''),
    userAgent: headerValue(headers['user-agent']),
    referrer: headerValue(headers.referer),
    acceptLanguage: headerValue(headers['accept-language']),
    purpose: typeof purpose === 'string' ? purpose : '',
    gpc: headers['sec-gpc'] === '1',
    mobileHint: typeof mobile === 'string' ? mobile : undefined,
    platformHint: typeof platform === 'string' ? platform : undefined,
    countryHeader: settings.countryHeader === undefined ? '' : headerValue(headers[settings.countryHeader]),
    headers: declared,
    userId,
    locale
  }
}
