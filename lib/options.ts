import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AnalyticsCollector } from './collector.js'
import { isEventType, type AnalyticsEvent } from './event.js'
import { normalizePrivacy, type ConsentDecision, type PrivacyOptions, type UrlPolicy } from './privacy/index.js'

import { FST_ANALYTICS_DUPLICATE_COLLECTOR, FST_ANALYTICS_INVALID_OPTION } from './errors.js'

/** The types an automatic event can have without an explicit name. */
export type AutomaticEventType = 'pageview' | 'action'
import { errorText, MAX_TIMER_MS } from './util.js'
import { DEFAULT_VISIT_TIMEOUT_MS, MIN_VISIT_TIMEOUT_MS, VISITS_CLOCK, type GeoSettings, type VisitSettings, type VisitStore } from './visits/index.js'

/**
 * Which GET requests are page views. `'html'`: those answered with `text/html` or
 * `application/xhtml+xml` (error pages included), or whose route says `{ type: 'pageview' }`;
 * `'all'`: every GET; `false`: none.
 */
export type PageViewsMode = 'html' | 'all' | false

/** What happens to requests from bots: `'skip'` their automatic events, `'label'` them (`client.bot`), or `'keep'` them undetected. */
export type BotsMode = 'skip' | 'label' | 'keep'

export const DEFAULT_START_TIMEOUT_MS = 10_000
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000
/** Where the built-in collectors deliver by default; chosen by measurement (bench/RESULTS.md). */
/**
 * Where the built-in collectors run: `'worker'` moves them to one worker thread (and, when every
 * collector moved and there is no `beforeSend`, the event pipeline too); custom collectors always run inline.
 */
export type DeliveryMode = 'worker' | 'inline'

export const DEFAULT_DELIVERY: DeliveryMode = 'inline'

/**
 * Whether AsyncLocalStorage runs on AsyncContextFrame here (the default from Node 24; Node 22 with
 * `--experimental-async-context-frame`), where it no longer hooks every promise of the app.
 */
export function asyncContextFrameActive (version = process.versions.node, flags: readonly string[] = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]): boolean {
  const major = Number(version.split('.')[0])
  if (major >= 24) return !flags.includes('--no-async-context-frame')
  return major >= 22 && flags.includes('--experimental-async-context-frame')
}

/**
 * `requestContext`'s default, from measurement (bench/request-context.js, in instructions under
 * valgrind, a JSON route that yields no event, its handler awaiting three promises): on Node 20 the
 * AsyncLocalStorage added 29 % to the cost of the whole request (about 210 000 instructions), three
 * times the plugin's own share; on Node 24 it was within the measurement's noise. So the module
 * helpers' request context is on where it costs nothing, and one option away elsewhere.
 */
export const DEFAULT_REQUEST_CONTEXT: boolean = asyncContextFrameActive()

/** Options of the plugin: `app.register(analytics, options)`. */
export interface AnalyticsOptions {
  /** Where events go. Required; an empty array makes the plugin inert. */
  collectors: AnalyticsCollector[]
  /**
   * Which GETs are page views: `'html'` (default) for HTML responses and routes configured
   * `{ type: 'pageview' }`, `'all'` for every GET, `false` for none. `true` means `'html'`.
   */
  pageViews?: PageViewsMode | true
  /**
   * Requests from bots (`isbot`; a request without a User-Agent counts as one). `'skip'` (default):
   * no automatic event, explicit `track()` calls kept with `client.bot: true`; `'label'`: every
   * event kept, labelled; `'keep'`: no detection (`client.bot` is always false).
   */
  bots?: BotsMode
  /** Emit an action for each POST/PUT/PATCH/DELETE. Default true. */
  actions?: boolean
  /**
   * Overrides the automatic classification of a finished request: return `'pageview'` or
   * `'action'`, `null` for no event, or `undefined` to keep the default. (Custom events are
   * named with `request.analytics.setEventName`.)
   */
  classify?: (request: FastifyRequest, reply: FastifyReply) => AutomaticEventType | null | undefined
  /** Return true to emit no automatic event for this request (health checks, bots). */
  ignore?: (request: FastifyRequest) => boolean
  /** The locale of a request. Default: the first tag of `Accept-Language`. */
  locale?: (request: FastifyRequest) => string | undefined
  /** The user of a request. Default: `request.user.id`, else `request.user.sub`, when present. */
  userId?: (request: FastifyRequest) => string | number | undefined
  /**
   * What of URLs and referrers leaves the process, for automatic and tracked events alike. Default:
   * only campaign query parameters (`utm_*`, click ids, `ref`), no fragment, emails redacted.
   */
  privacy?: PrivacyOptions
  /**
   * The visitor's consent for a request, asked once per request at its first event. `'denied'`: no
   * event from this request; `'anonymous'`: events without user id, full IP or GA4 cookies;
   * `'granted'` or undefined: unrestricted. A callback that throws counts as `'denied'`.
   */
  consent?: (request: FastifyRequest) => ConsentDecision | undefined
  /** Treat `Sec-GPC: 1` (Global Privacy Control) as `'anonymous'` at most. Default false. */
  respectGpc?: boolean
  /**
   * The last step before fan-out, after enrichment and the privacy rules: return the event (changed
   * or not; undefined keeps it), or null to drop it. A hook that throws drops the event (fail closed).
   */
  beforeSend?: (event: AnalyticsEvent) => AnalyticsEvent | null | undefined
  /**
   * Keep a request context (an AsyncLocalStorage) so the module helpers (`trackAnalyticsEvent`, …)
   * find the current request. Default: on where AsyncLocalStorage is cheap (Node 24, see
   * `DEFAULT_REQUEST_CONTEXT`), off on Node 20 and 22, where it taxes every promise of the app.
   * With the app's own `@fastify/request-context` registered first, the helpers use it either way.
   */
  requestContext?: boolean
  /** Deadline for every collector's `start` at `onReady`, in ms. Default {@link DEFAULT_START_TIMEOUT_MS}. */
  startTimeoutMs?: number
  /** Deadline for flushing and closing every collector at `onClose`, in ms. Default {@link DEFAULT_SHUTDOWN_TIMEOUT_MS}. */
  shutdownTimeoutMs?: number
  /**
   * `'worker'` runs the built-in collectors (stdout, GA4, Plausible, Mixpanel, PostHog, Segment, Umami, webhook, PostgreSQL, ClickHouse) in one worker thread:
   * the request thread only encodes each event once and hands it over. Collectors whose options
   * cannot cross a thread (a `dispatcher`, a function, a stream) and custom collectors run inline.
   * Default {@link DEFAULT_DELIVERY}.
   */
  delivery?: DeliveryMode
  /**
   * Cookieless visitors and visits (`event.visitorId`, `event.visit`): on by default, in memory.
   * `timeoutMs`: a gap this long ends a visit (default {@link DEFAULT_VISIT_TIMEOUT_MS}, at least
   * 1000); `store`: where visits and the daily salts live (`redisVisitStore()` from
   * `fastify-analytics/redis` shares them between instances). `false`: no visitor id, no visit.
   */
  visits?: VisitsOptions | false
  /**
   * `event.country`: on by default, from the client IP in the database shipped in the package.
   * `header`: a CDN's country header to read first (`cf-ipcountry`; read only when named, since any
   * client can send it); `database`: a MaxMind-format file of yours (GeoLite2, DB-IP). `false`: none.
   */
  geo?: GeoOptions | false
  // Fastify's own register options (`logLevel`, `logSerializers`, `prefix`) are typed by Fastify's
  // `RegisterOptions`; `logLevel` and `logSerializers` apply to the plugin's own log lines.
}

/** Plugin option `visits`. */
export interface VisitsOptions {
  /** A visitor's events with gaps shorter than this are one visit. Default 30 minutes; at least 1000. */
  timeoutMs?: number
  /** Where visits and salts live, shared by the app's instances. Default: this process's memory. */
  store?: VisitStore
}

/** Plugin option `geo`. */
export interface GeoOptions {
  /** A CDN's country header (`cf-ipcountry`, `x-vercel-ip-country`, `cloudfront-viewer-country`); `XX` and `T1` mean unknown. */
  header?: string
  /** Path of a MaxMind-format country or city database; default: the one shipped in the package. */
  database?: string
}

/** Per-route config: `{ config: { analytics: … } }`. */
export type RouteAnalyticsConfig =
  | false
  | { type: 'pageview', action?: never }
  | { type: 'action', action?: string }
  | { action: string, type?: 'action' }

export interface NormalizedOptions {
  collectors: readonly AnalyticsCollector[]
  pageViews: PageViewsMode
  bots: BotsMode
  actions: boolean
  classify: AnalyticsOptions['classify'] | undefined
  ignore: AnalyticsOptions['ignore'] | undefined
  locale: AnalyticsOptions['locale'] | undefined
  userId: AnalyticsOptions['userId'] | undefined
  requestContext: boolean
  privacy: UrlPolicy
  consent: AnalyticsOptions['consent'] | undefined
  respectGpc: boolean
  beforeSend: AnalyticsOptions['beforeSend'] | undefined
  startTimeoutMs: number
  shutdownTimeoutMs: number
  delivery: DeliveryMode
  visits: VisitSettings | false
  geo: GeoSettings | false
  logLevel: string | undefined
  logSerializers: Record<string, (value: unknown) => unknown> | undefined
}

const KNOWN = new Set(['collectors', 'pageViews', 'bots', 'actions', 'classify', 'ignore', 'locale', 'userId', 'requestContext', 'privacy', 'consent', 'respectGpc', 'beforeSend', 'startTimeoutMs', 'shutdownTimeoutMs', 'delivery', 'visits', 'geo',
  // Fastify's register options: Fastify hands them to every plugin with the plugin's own options.
  'logLevel', 'logSerializers', 'prefix'])
const MEMBERS = ['start', 'collect', 'flush', 'close'] as const

function optionalBoolean (options: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = options[key]
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new FST_ANALYTICS_INVALID_OPTION(`${key} must be a boolean`)
  return value
}

function pageViewsMode (value: unknown): PageViewsMode {
  if (value === undefined || value === true) return 'html'
  if (value === 'html' || value === 'all' || value === false) return value
  throw new FST_ANALYTICS_INVALID_OPTION('pageViews must be "html", "all" or false')
}

function botsMode (value: unknown): BotsMode {
  if (value === undefined) return 'skip'
  if (value === 'skip' || value === 'label' || value === 'keep') return value
  throw new FST_ANALYTICS_INVALID_OPTION('bots must be "skip", "label" or "keep"')
}

function optionalFunction<F> (options: Record<string, unknown>, key: string): F | undefined {
  const value = options[key]
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw new FST_ANALYTICS_INVALID_OPTION(`${key} must be a function`)
  return value as F
}

function timeout (options: Record<string, unknown>, key: string, fallback: number): number {
  const value = options[key]
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new FST_ANALYTICS_INVALID_OPTION(`${key} must be a positive integer number of milliseconds`)
  }
  return value
}

function logLevel (value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) throw new FST_ANALYTICS_INVALID_OPTION('logLevel must be a log level name')
  return value
}

function logSerializers (value: unknown): NormalizedOptions['logSerializers'] {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || Object.values(value).some((serializer) => typeof serializer !== 'function')) {
    throw new FST_ANALYTICS_INVALID_OPTION('logSerializers must be an object of functions')
  }
  return value as NormalizedOptions['logSerializers']
}

function validateCollector (collector: unknown, index: number): AnalyticsCollector {
  if (typeof collector === 'function') {
    // The usual slip: `collectors: [memoryCollector]` passes the factory instead of a collector.
    const name = collector.name !== '' ? collector.name : 'the factory'
    throw new FST_ANALYTICS_INVALID_OPTION(`collectors[${index}] is a function: call it to make a collector (${name}(…), not ${name})`)
  }
  if (collector === null || typeof collector !== 'object') {
    throw new FST_ANALYTICS_INVALID_OPTION(`collectors[${index}] must be an object`)
  }
  const candidate = collector as Record<string, unknown>
  let name: unknown
  try {
    name = candidate.name
  } catch (error) {
    // A getter: say which collector, rather than let its error surface from register() unexplained.
    throw new FST_ANALYTICS_INVALID_OPTION(`collectors[${index}].name threw: ${errorText(error)}`)
  }
  if (typeof name !== 'string' || name.length === 0) {
    throw new FST_ANALYTICS_INVALID_OPTION(`collectors[${index}].name must be a non-empty string`)
  }
  for (const member of MEMBERS) {
    if (typeof candidate[member] !== 'function') {
      throw new FST_ANALYTICS_INVALID_OPTION(`collectors[${index}] ("${name}") has no ${member}() method`)
    }
  }
  if (candidate.stats !== undefined && typeof candidate.stats !== 'function') {
    throw new FST_ANALYTICS_INVALID_OPTION(`collectors[${index}] ("${name}").stats must be a method`)
  }
  return collector as AnalyticsCollector
}

function deliveryMode (value: unknown): DeliveryMode {
  if (value === undefined) return DEFAULT_DELIVERY
  if (value !== 'worker' && value !== 'inline') throw new FST_ANALYTICS_INVALID_OPTION('delivery must be "worker" or "inline"')
  return value
}

function visitSettings (value: unknown): VisitSettings | false {
  if (value === false) return false
  if (value === undefined) return { timeoutMs: DEFAULT_VISIT_TIMEOUT_MS, store: undefined, clock: Date.now }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FST_ANALYTICS_INVALID_OPTION('visits must be an object or false')
  const visits = value as Record<string | symbol, unknown>
  for (const key of Object.keys(visits)) {
    if (key !== 'timeoutMs' && key !== 'store') throw new FST_ANALYTICS_INVALID_OPTION(`visits has unknown key "${key.slice(0, 64)}"`)
  }
  const timeoutMs = visits.timeoutMs ?? DEFAULT_VISIT_TIMEOUT_MS
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < MIN_VISIT_TIMEOUT_MS || timeoutMs > MAX_TIMER_MS) {
    throw new FST_ANALYTICS_INVALID_OPTION(`visits.timeoutMs must be an integer number of milliseconds, at least ${MIN_VISIT_TIMEOUT_MS}`)
  }
  const store = visits.store
  if (store !== undefined) {
    const candidate = store as Partial<VisitStore> | null
    if (candidate === null || typeof candidate !== 'object' || typeof candidate.kind !== 'string' ||
        typeof candidate.salts !== 'function' || typeof candidate.visit !== 'function') {
      throw new FST_ANALYTICS_INVALID_OPTION('visits.store must be a visit store (kind, salts(), visit()), e.g. redisVisitStore() from fastify-analytics/redis')
    }
  }
  const clock = visits[VISITS_CLOCK]
  return { timeoutMs, store: store as VisitStore | undefined, clock: typeof clock === 'function' ? clock as () => number : Date.now }
}

// An HTTP header name (RFC 9110 token).
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

function geoSettings (value: unknown): GeoSettings | false {
  if (value === false) return false
  if (value === undefined) return { header: undefined, database: undefined }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FST_ANALYTICS_INVALID_OPTION('geo must be an object or false')
  const geo = value as Record<string, unknown>
  for (const key of Object.keys(geo)) {
    if (key !== 'header' && key !== 'database') throw new FST_ANALYTICS_INVALID_OPTION(`geo has unknown key "${key.slice(0, 64)}"`)
  }
  if (geo.header !== undefined && (typeof geo.header !== 'string' || !HEADER_NAME.test(geo.header))) {
    throw new FST_ANALYTICS_INVALID_OPTION('geo.header must be an HTTP header name, e.g. "cf-ipcountry"')
  }
  if (geo.database !== undefined && (typeof geo.database !== 'string' || geo.database.length === 0)) {
    throw new FST_ANALYTICS_INVALID_OPTION('geo.database must be the path of a MaxMind-format database file')
  }
  // Node lower-cases incoming header names.
  return { header: (geo.header as string | undefined)?.toLowerCase(), database: geo.database as string | undefined }
}

/** Checks and completes the options once, at registration; hooks never read raw options. */
export function normalizeOptions (raw: unknown): NormalizedOptions {
  if (raw === null || typeof raw !== 'object') throw new FST_ANALYTICS_INVALID_OPTION('options must be an object')
  const options = raw as Record<string, unknown>
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new FST_ANALYTICS_INVALID_OPTION(`unknown option "${key}"`)
  }
  if (!Array.isArray(options.collectors)) throw new FST_ANALYTICS_INVALID_OPTION('collectors must be an array of collectors')
  const collectors = options.collectors.map(validateCollector)
  const names = new Set<string>()
  for (const collector of collectors) {
    if (names.has(collector.name)) throw new FST_ANALYTICS_DUPLICATE_COLLECTOR(collector.name)
    names.add(collector.name)
  }
  return {
    collectors,
    pageViews: pageViewsMode(options.pageViews),
    bots: botsMode(options.bots),
    actions: optionalBoolean(options, 'actions', true),
    classify: optionalFunction(options, 'classify'),
    ignore: optionalFunction(options, 'ignore'),
    locale: optionalFunction(options, 'locale'),
    userId: optionalFunction(options, 'userId'),
    requestContext: optionalBoolean(options, 'requestContext', DEFAULT_REQUEST_CONTEXT),
    privacy: normalizePrivacy(options.privacy),
    consent: optionalFunction(options, 'consent'),
    respectGpc: optionalBoolean(options, 'respectGpc', false),
    beforeSend: optionalFunction(options, 'beforeSend'),
    startTimeoutMs: timeout(options, 'startTimeoutMs', DEFAULT_START_TIMEOUT_MS),
    shutdownTimeoutMs: timeout(options, 'shutdownTimeoutMs', DEFAULT_SHUTDOWN_TIMEOUT_MS),
    delivery: deliveryMode(options.delivery),
    visits: visitSettings(options.visits),
    geo: geoSettings(options.geo),
    logLevel: logLevel(options.logLevel),
    logSerializers: logSerializers(options.logSerializers)
  }
}

/** A route's analytics config, resolved once per route. */
export interface RouteDescriptor {
  disabled: boolean
  /** Forced type; undefined → by method. */
  type: 'pageview' | 'action' | undefined
  actionName: string
}

export const DEFAULT_ROUTE: RouteDescriptor = Object.freeze({ disabled: false, type: undefined, actionName: '' })
const DISABLED_ROUTE: RouteDescriptor = Object.freeze({ disabled: true, type: undefined, actionName: '' })

/** Validates `config.analytics` of a route; throws FST_ANALYTICS_INVALID_OPTION naming the route. */
export function routeDescriptor (value: unknown, route: string): RouteDescriptor {
  if (value === undefined) return DEFAULT_ROUTE
  if (value === false) return DISABLED_ROUTE
  // The rules of RouteAnalyticsConfig, for JavaScript apps that no compiler checks: `true`, `null`
  // and `{}` do not type-check, so they are refused here too rather than read as the default.
  if (value === null || typeof value !== 'object') {
    throw new FST_ANALYTICS_INVALID_OPTION(`config.analytics of route ${route} must be false or an object like { type: 'pageview' } or { action: 'checkout' } (leave it out for the default event)`)
  }
  const config = value as Record<string, unknown>
  for (const key of Object.keys(config)) {
    if (key !== 'type' && key !== 'action') throw new FST_ANALYTICS_INVALID_OPTION(`config.analytics of route ${route} has unknown key "${key}"`)
  }
  if (config.type !== undefined && config.type !== 'pageview' && config.type !== 'action') {
    const hint = isEventType(config.type) ? ' (custom events are named with request.analytics.setEventName)' : ''
    throw new FST_ANALYTICS_INVALID_OPTION(`config.analytics.type of route ${route} must be "pageview" or "action"${hint}`)
  }
  if (config.action !== undefined && (typeof config.action !== 'string' || config.action.length === 0)) {
    throw new FST_ANALYTICS_INVALID_OPTION(`config.analytics.action of route ${route} must be a non-empty string`)
  }
  if (config.type === undefined && config.action === undefined) {
    throw new FST_ANALYTICS_INVALID_OPTION(`config.analytics of route ${route} names neither a type nor an action (leave it out for the default event)`)
  }
  if (config.type === 'pageview' && config.action !== undefined) {
    throw new FST_ANALYTICS_INVALID_OPTION(`config.analytics of route ${route} cannot be a pageview with an action name`)
  }
  const type = config.action !== undefined ? 'action' : config.type as 'pageview' | 'action' | undefined
  return Object.freeze({ disabled: false, type, actionName: (config.action as string | undefined) ?? '' })
}
