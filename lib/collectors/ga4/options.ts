import { EventType, type AnalyticsEvent } from '../../event.js'
import type { BatchingOptions } from '../../batch/types.js'
import { parseHttpUrl } from '../../http/index.js'
import type { IpPolicy } from '../../privacy/ip.js'
import type { EngineWiring } from '../engine-collector.js'
import { BATCHING_OPTION_KEYS, checkCollectorOptions, eventsFilter, ipPolicyOption, NO_BOT_EVENTS, optionErrors, pickBatchingOptions, type CollectorEventsOption } from '../options.js'
import type { Ga4SessionStore } from './session-store.js'
import { SESSION_TIMEOUT_MS } from './session.js'
import { RESERVED_EVENT_NAMES, toGa4Name } from './names.js'

export interface Ga4CollectorOptions extends BatchingOptions, CollectorEventsOption {
  /** The web stream's measurement id, `G-XXXXXXXXXX` (Admin > Data streams). */
  measurementId: string
  /** A Measurement Protocol API secret of that stream. Never logged. */
  apiSecret: string
  /** `'eu'` sends to region1.google-analytics.com, so data is collected in the EU. Default `'global'` ({@link GLOBAL_ORIGIN}). */
  region?: 'global' | 'eu'
  /** An origin (`scheme://host[:port]`) that replaces Google's host: a proxy, or a test server. */
  endpoint?: string
  /** Post to `/debug/mp/collect`, log GA's validation messages, count flagged requests `rejected`. Default false. */
  debug?: boolean
  /** Your own client id for an event; return undefined to fall back to the `_ga` cookie or the derived id. */
  clientId?: (event: Readonly<AnalyticsEvent>) => string | undefined
  /**
   * What of the visitor's IP goes in `ip_override`. Default `'full'`: GA uses it only to derive
   * geography and drops it ("IP addresses are not logged or stored" for GA4). `'truncate'` (its /24
   * or /48) keeps a coarser location; `'none'` sends none, and GA then places every visitor where this
   * server is. The client id never contains the IP, whatever this says.
   */
  ip?: IpPolicy
  /** @deprecated Use `ip`: `ipOverride: false` is `ip: 'none'`. */
  ipOverride?: boolean
  /**
   * Where sessions of visitors without a `_ga_<stream>` cookie are kept. Default: this process's
   * memory, which is right for one instance only; with several, use `redisSessionStore()` from
   * `fastify-analytics/redis` so every instance continues the same session.
   */
  sessions?: Ga4SessionStore
  /** A session ends after this long without an event. Match the property's setting in GA (Admin > Data streams > Configure tag settings > Adjust session timeout). Default 30 minutes. */
  sessionTimeoutMs?: number
  /**
   * The GA4 event name for your events, e.g. `{ 'order.paid': 'purchase', 'POST /cart': 'add_to_cart' }`.
   * Keys are a custom event's `eventName` or an action's `actionName`; values must be valid GA4 event
   * names (letters, digits, `_`, starting with a letter, at most 40, not reserved). Or a function
   * that returns the name (made valid like any name), or undefined/null for the default. An event
   * with revenue that is not mapped, and whose own name is not a GA4 ecommerce event, goes as
   * `purchase`; a mapped one keeps the mapped name (with `value` and `currency`). Not named `events`:
   * that is every collector's routing option. A function keeps the collector on the request thread
   * in worker delivery; an object crosses to the worker.
   */
  eventNames?: Readonly<Record<string, string>> | ((event: Readonly<AnalyticsEvent>) => string | null | undefined)
  /** The collector's name in logs and stats. Default {@link DEFAULT_NAME}. */
  name?: string
}

export const DEFAULT_NAME = 'ga4'
export const GLOBAL_ORIGIN = 'https://www.google-analytics.com'
export const EU_ORIGIN = 'https://region1.google-analytics.com'

/**
 * Batching defaults.
 * - maxBatchSize 1000: a batch is grouped by visitor before it is cut into requests of ≤ 25 events,
 *   so only events in one batch can share a request. Measured on loopback with 100 busy visitors:
 *   500 → 5 events a request, 51 000 events/s; 1000 → 10 a request, 70 000 events/s. Memory stays
 *   bounded by 10 000 queued + 8 × 1000 in flight (a few MB).
 * - flushIntervalMs 2000: GA's Realtime view stays near real time at low traffic, and a visitor's
 *   events of the last 2 s travel together.
 * - concurrency 8: eight keep-alive connections per process. Throughput is concurrency ÷ round trip ×
 *   events per request. With 4, the benchmark's saturated app (50 visitors, ~18 events a request,
 *   an 8 ms event-loop round trip) delivered 8 000 of 13 000 events/s and dropped the rest as
 *   queueFull; to Google (20–50 ms away) with one-event visitors, 8 gives 160–400 requests/s.
 *   Busy sites with many cookieless visitors should raise it further.
 */
export const GA4_DEFAULTS = { maxBatchSize: 1000, flushIntervalMs: 2000, concurrency: 8 } as const

const MEASUREMENT_ID = /^G-[A-Z0-9]{1,32}$/
/** Secrets are opaque, but printable, unspaced ASCII: anything else is a paste error. */
const API_SECRET = /^[\x21-\x7e]{1,256}$/

const OWN_OPTION_KEYS = new Set<string>([
  'measurementId', 'apiSecret', 'region', 'endpoint', 'debug', 'clientId', 'ip', 'ipOverride', 'name',
  'sessions', 'sessionTimeoutMs', 'eventNames',
  ...BATCHING_OPTION_KEYS
])

export interface NormalizedGa4Options extends EngineWiring {
  measurementId: string
  apiSecret: string
  debug: boolean
  clientId: ((event: Readonly<AnalyticsEvent>) => string | undefined) | undefined
  ip: IpPolicy
  sessions: Ga4SessionStore | undefined
  sessionTimeoutMs: number
  /** The app's GA4 name for an event, or undefined for the default; may throw (the collector catches it). */
  eventNames: ((event: Readonly<AnalyticsEvent>) => string | null | undefined) | undefined
}

/** Bounds of `sessionTimeoutMs`. GA's own setting ranges from 5 minutes to 7 h 55 min; 1 s is allowed for tests. */
export const MIN_SESSION_TIMEOUT_MS = 1000
export const MAX_SESSION_TIMEOUT_MS = 24 * 3_600_000

const invalidOption = optionErrors('ga4Collector')

/** Checks and completes the options once, at construction. Messages never include the secret. */
export function normalizeGa4Options (options: Ga4CollectorOptions): NormalizedGa4Options {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, DEFAULT_NAME, invalidOption, 'a measurementId and an apiSecret')
  const { measurementId, apiSecret, region, endpoint, debug, clientId, ip, ipOverride, sessions, sessionTimeoutMs, eventNames } = options
  if (typeof measurementId !== 'string' || !MEASUREMENT_ID.test(measurementId)) {
    throw invalidOption('measurementId must be a web stream measurement id like "G-XXXXXXXXXX"')
  }
  if (typeof apiSecret !== 'string' || !API_SECRET.test(apiSecret)) {
    throw invalidOption('apiSecret must be a non-empty string of printable characters without spaces (at most 256)')
  }
  if (region !== undefined && region !== 'global' && region !== 'eu') throw invalidOption('region must be "global" or "eu"')
  if (debug !== undefined && typeof debug !== 'boolean') throw invalidOption('debug must be a boolean')
  if (ipOverride !== undefined && typeof ipOverride !== 'boolean') throw invalidOption('ipOverride must be a boolean')
  if (ipOverride !== undefined && ip !== undefined) throw invalidOption('ipOverride is the old name of ip: give ip only')
  if (clientId !== undefined && typeof clientId !== 'function') throw invalidOption('clientId must be a function')
  if (sessions !== undefined && (typeof sessions !== 'object' || sessions === null || typeof sessions.sessionIds !== 'function' || typeof sessions.kind !== 'string')) {
    throw invalidOption('sessions must be a session store, e.g. redisSessionStore() from fastify-analytics/redis')
  }
  if (sessionTimeoutMs !== undefined && (typeof sessionTimeoutMs !== 'number' || !Number.isSafeInteger(sessionTimeoutMs) ||
    sessionTimeoutMs < MIN_SESSION_TIMEOUT_MS || sessionTimeoutMs > MAX_SESSION_TIMEOUT_MS)) {
    throw invalidOption(`sessionTimeoutMs must be an integer from ${MIN_SESSION_TIMEOUT_MS} to ${MAX_SESSION_TIMEOUT_MS}`)
  }
  return {
    name,
    measurementId,
    apiSecret,
    // An explicit endpoint wins over the region: it is how proxies and tests reroute.
    origin: endpoint !== undefined ? parseHttpUrl(endpoint, 'endpoint', 'origin', invalidOption).origin : region === 'eu' ? EU_ORIGIN : GLOBAL_ORIGIN,
    debug: debug ?? false,
    clientId,
    ip: ipOverride === false ? 'none' : ipPolicyOption(ip, 'full', invalidOption),
    sessions,
    sessionTimeoutMs: sessionTimeoutMs ?? SESSION_TIMEOUT_MS,
    eventNames: eventNamesOption(eventNames),
    batching: pickBatchingOptions(options),
    defaults: GA4_DEFAULTS,
    // No crawler's event by default: Google's terms and GA4's reports are about people.
    events: eventsFilter(options.events, NO_BOT_EVENTS, invalidOption)
  }
}

/**
 * The `eventNames` option as one function: an object becomes a lookup by the event's own name
 * (`eventName` of a custom event, `actionName` of an action; page views have none), its values
 * checked here, once, so a typo fails at registration instead of renaming events at run time.
 */
function eventNamesOption (eventNames: Ga4CollectorOptions['eventNames']): NormalizedGa4Options['eventNames'] {
  if (eventNames === undefined) return undefined
  if (typeof eventNames === 'function') return eventNames
  if (typeof eventNames !== 'object' || eventNames === null || Array.isArray(eventNames)) {
    throw invalidOption('eventNames must be an object of event name → GA4 event name, or a function')
  }
  const names = new Map<string, string>()
  for (const [from, to] of Object.entries(eventNames)) {
    if (typeof to !== 'string' || toGa4Name(to, RESERVED_EVENT_NAMES) !== to) {
      throw invalidOption(`eventNames[${JSON.stringify(from.slice(0, 64))}] must be a valid GA4 event name (letters, digits and _, starting with a letter, at most 40, not reserved)`)
    }
    names.set(from, to)
  }
  return (event) => names.get(event.type === EventType.Action ? event.actionName : event.type === EventType.Custom ? event.eventName : '')
}

/** The request path, secret included (the engine redacts `api_secret` wherever it logs a URL). */
export function collectPath (measurementId: string, apiSecret: string, debug: boolean): string {
  const query = `measurement_id=${encodeURIComponent(measurementId)}&api_secret=${encodeURIComponent(apiSecret)}`
  return `${debug ? '/debug/mp/collect' : '/mp/collect'}?${query}`
}
