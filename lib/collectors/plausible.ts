import { isIP } from 'node:net'
import type { AnalyticsCollector, CollectorContext, DeliveryReport } from '../collector.js'
import { EventType, truncateCodePoints, type AnalyticsEvent } from '../event.js'
import { FST_ANALYTICS_INVALID_OPTION } from '../errors.js'
import type { BatchingOptions, DeliveryAdapter, HttpResponse, OutgoingRequest, PreparedBatch, Verdict } from '../batch/types.js'
import { DeliveryEngine } from '../batch/engine.js'
import { defaultInterpret } from '../http/index.js'
import { RateLimitedLog, silentLogger } from '../log.js'
import { BATCHING_OPTION_KEYS, pickBatchingOptions } from './options.js'

export interface PlausibleCollectorOptions extends BatchingOptions {
  /** The site as added in Plausible (`example.com`; a comma-separated list sends to several sites). */
  domain: string
  /** Plausible's origin, with an optional path prefix for a self-hosted instance. Default `https://plausible.io`. */
  baseUrl?: string
  /** Name in logs and `stats()`. Default `'plausible'`. */
  name?: string
}

export const DEFAULT_PLAUSIBLE_BASE_URL = 'https://plausible.io'
export const DEFAULT_PLAUSIBLE_NAME = 'plausible'
// The Events API takes one event per request and has no timestamp field: Plausible stamps each
// event when it arrives, so every event is a batch of its own and leaves as soon as a slot is free.
export const DEFAULT_PLAUSIBLE_BATCH_SIZE = 1
// With batches of one no batch is ever partial, so the interval only matters if a user raises
// maxBatchSize; keep it short so queueing delay does not become a timestamp error.
export const DEFAULT_PLAUSIBLE_FLUSH_INTERVAL_MS = 1
// One request per event costs one round trip per event per connection: at a 20–50 ms RTT to
// plausible.io, 8 keep-alive connections carry 160–400 events/s, enough for most sites that send
// server-side, while staying polite to a per-site ingest throttle. Raise it for more traffic.
export const DEFAULT_PLAUSIBLE_CONCURRENCY = 8

/** Plausible's published limits (docs/events-api.md; lib/plausible/ingestion/request.ex). */
export const PLAUSIBLE_MAX_NAME_LENGTH = 120
export const PLAUSIBLE_MAX_URL_BYTES = 2000
export const PLAUSIBLE_MAX_REFERRER_BYTES = 2000
export const PLAUSIBLE_MAX_PROPS = 30
export const PLAUSIBLE_MAX_PROP_KEY_BYTES = 300
export const PLAUSIBLE_MAX_PROP_VALUE_BYTES = 2000

const OWN_OPTION_KEYS = new Set<string>(['domain', 'baseUrl', 'name', ...BATCHING_OPTION_KEYS])

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

/**
 * Cuts a string to at most `maxBytes` of UTF-8 without splitting a code point.
 * A lone surrogate counts 3 bytes, as Node encodes it (U+FFFD).
 */
export function truncateUtf8 (value: string, maxBytes: number): string {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: short strings cost one comparison.
  if (value.length * 3 <= maxBytes) return value
  let bytes = 0
  let i = 0
  const length = value.length
  while (i < length) {
    const code = value.charCodeAt(i)
    let size = 3
    let units = 1
    if (code < 0x80) size = 1
    else if (code < 0x800) size = 2
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < length) {
      const next = value.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) { size = 4; units = 2 }
    }
    if (bytes + size > maxBytes) return value.slice(0, i)
    bytes += size
    i += units
  }
  return value
}

// Header values are sent as Latin-1 bytes: CR/LF would split the header (injection), other
// control characters and code points above U+00FF make undici refuse the whole request.
const UNSAFE_HEADER_CHARS = /[^\x20-\x7e\x80-\xff]/g

/** Removes control characters (CR and LF included) and anything not sendable as a header byte. */
export function sanitizeHeaderValue (value: string): string {
  UNSAFE_HEADER_CHARS.lastIndex = 0
  if (!UNSAFE_HEADER_CHARS.test(value)) return value.trim()
  return value.replace(UNSAFE_HEADER_CHARS, '').trim()
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
export function plausibleRequest (event: Readonly<AnalyticsEvent>, path: string, domain: string, fallbackHost: string): OutgoingRequest | string {
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
  const ip = event.clientIP
  if (isIP(ip) !== 0 && !ip.includes('%')) headers['x-forwarded-for'] = ip
  return { path, headers, body: JSON.stringify(body), events: 1 }
}

function headerValue (response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** Reads Plausible's answer. `fallback` handles what Plausible does not make special. */
export function interpretPlausibleResponse (response: HttpResponse, request: OutgoingRequest, fallback: (response: HttpResponse, request: OutgoingRequest) => Verdict): Verdict {
  const status = response.statusCode
  if (status >= 200 && status < 300) {
    // 202 even for events Plausible throws away (bot, data-centre IP, unknown domain, throttle):
    // only this header tells them apart.
    const dropped = headerValue(response, 'x-plausible-dropped')
    if (dropped === undefined) return { outcome: 'delivered' }
    return {
      outcome: 'delivered',
      destinationDropped: request.events,
      detail: `Plausible dropped the event (x-plausible-dropped: ${sanitizeHeaderValue(dropped).slice(0, 100)})`
    }
  }
  if (status === 400) {
    return { outcome: 'rejected', detail: `Plausible refused the event (400): ${describeErrors(response.body)}` }
  }
  return fallback(response, request)
}

function describeErrors (body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: unknown }
    if (parsed !== null && typeof parsed === 'object' && parsed.errors !== undefined) return JSON.stringify(parsed.errors).slice(0, 2000)
  } catch {}
  return JSON.stringify(body.slice(0, 2000))
}

function invalidOption (message: string): Error {
  return new FST_ANALYTICS_INVALID_OPTION(`plausibleCollector: ${message}`)
}

const BAD_DOMAIN_CHARS = /[\s/\\?#@:\x00-\x1f\x7f]/

interface NormalizedPlausibleOptions {
  name: string
  domain: string
  fallbackHost: string
  origin: string
  path: string
  batching: BatchingOptions
}

/** Checks and normalises the options once, at construction. */
export function normalizePlausibleOptions (options: PlausibleCollectorOptions): NormalizedPlausibleOptions {
  if (options === null || typeof options !== 'object') throw invalidOption('options must be an object with a domain')
  for (const key of Object.keys(options)) {
    if (!OWN_OPTION_KEYS.has(key)) throw invalidOption(`unknown option "${key}"`)
  }
  const name = options.name ?? DEFAULT_PLAUSIBLE_NAME
  if (typeof name !== 'string' || name === '') throw invalidOption('name must be a non-empty string')

  if (typeof options.domain !== 'string' || options.domain.trim() === '') {
    throw invalidOption('domain is required: the site as added in Plausible, e.g. "example.com"')
  }
  const domain = options.domain.trim()
  const sites = domain.split(',').map((site) => site.trim())
  for (const site of sites) {
    if (site === '' || BAD_DOMAIN_CHARS.test(site)) {
      throw invalidOption(`domain ${JSON.stringify(domain)} is not a site name like "example.com" (no scheme, port or path)`)
    }
  }

  const baseUrl = options.baseUrl ?? DEFAULT_PLAUSIBLE_BASE_URL
  if (typeof baseUrl !== 'string') throw invalidOption('baseUrl must be a string')
  let parsed: URL
  try {
    parsed = new URL(baseUrl)
  } catch {
    throw invalidOption(`baseUrl ${JSON.stringify(baseUrl)} is not an absolute URL`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw invalidOption('baseUrl must be http or https')
  if (parsed.username !== '' || parsed.password !== '') throw invalidOption('baseUrl must not carry credentials')
  if (parsed.search !== '' || parsed.hash !== '') throw invalidOption('baseUrl must not have a query or fragment')
  const prefix = parsed.pathname.replace(/\/+$/, '')

  return {
    name,
    domain,
    fallbackHost: sites[0],
    origin: parsed.origin,
    path: `${prefix}/api/event`,
    batching: pickBatchingOptions(options)
  }
}

class PlausibleAdapter implements DeliveryAdapter<OutgoingRequest> {
  // Requests are built at collect (the event is only ours during that call): nothing left to do.
  prepare (items: OutgoingRequest[]): PreparedBatch {
    return { requests: items, invalid: 0 }
  }

  interpret (response: HttpResponse, request: OutgoingRequest): Verdict {
    return interpretPlausibleResponse(response, request, defaultInterpret)
  }
}

/** Sends events to Plausible's Events API. Create it with `plausibleCollector()`. */
export class PlausibleCollector implements AnalyticsCollector {
  readonly name: string
  readonly #engine: DeliveryEngine<OutgoingRequest>
  readonly #domain: string
  readonly #fallbackHost: string
  readonly #path: string
  readonly #log = new RateLimitedLog(silentLogger)

  constructor (options: PlausibleCollectorOptions) {
    const normalized = normalizePlausibleOptions(options)
    this.name = normalized.name
    this.#domain = normalized.domain
    this.#fallbackHost = normalized.fallbackHost
    this.#path = normalized.path
    this.#engine = new DeliveryEngine<OutgoingRequest>({
      ...normalized.batching,
      name: normalized.name,
      origin: normalized.origin,
      adapter: new PlausibleAdapter(),
      defaults: {
        maxBatchSize: DEFAULT_PLAUSIBLE_BATCH_SIZE,
        flushIntervalMs: DEFAULT_PLAUSIBLE_FLUSH_INTERVAL_MS,
        concurrency: DEFAULT_PLAUSIBLE_CONCURRENCY
      }
    })
  }

  start (signal: AbortSignal, context: CollectorContext): void {
    this.#log.log = context.log
    this.#engine.start(signal, context.log)
  }

  collect (event: Readonly<AnalyticsEvent>): void {
    const request = plausibleRequest(event, this.#path, this.#domain, this.#fallbackHost)
    if (typeof request === 'string') {
      this.#engine.drop('invalid')
      this.#log.warn('invalid', { reason: request }, 'analytics event not sent to Plausible')
      return
    }
    this.#engine.enqueue(request)
  }

  flush (signal: AbortSignal): Promise<void> {
    return this.#engine.flush(signal)
  }

  close (signal: AbortSignal): Promise<void> {
    return this.#engine.close(signal)
  }

  stats (): DeliveryReport {
    return this.#engine.stats()
  }
}

/**
 * A collector for Plausible's Events API (`POST {baseUrl}/api/event`), one request per event.
 * Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work.
 */
export function plausibleCollector (options: PlausibleCollectorOptions): PlausibleCollector {
  return new PlausibleCollector(options)
}
