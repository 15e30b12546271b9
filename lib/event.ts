import type { FastifyRequest } from 'fastify'
import { EMPTY_CLIENT, type ClientInfo } from './client.js'
import { Money, type MoneyJSON } from './money.js'
import type { EventConsent } from './privacy/index.js'
import { eventId, UUID_PATTERN } from './id.js'
import type { Attribution } from './attribution/types.js'
import { withoutZone } from './privacy/ip.js'
import { boundText, MAX_FIELD_LENGTH, UNCOUNTED, type TextCuts } from './text.js'

export { MAX_FIELD_LENGTH, truncateCodePoints, type TextCuts } from './text.js'

/** What an event records: a page request, an action (mutating route) or something the app named. */
export const EventType = {
  PageView: 'pageview',
  Action: 'action',
  Custom: 'custom'
} as const
export type EventType = typeof EventType[keyof typeof EventType]

/** At most this many properties per event (the seed API's limit). */
export const MAX_PROPERTIES = 64

// Caps on the text an event carries, in code points: memory is bounded in bytes, not only in events
// (a queue of 10 000 events of one visitor-sized megabyte each is 10 GB). Longer text is cut, never
// dropped, and each cut is counted in `stats().events.truncated`. With every field and 64 properties
// full, an event holds at most ~94 000 code points (≤ 376 kB of UTF-8).
/**
 * `eventName` and `actionName`: room for `"<METHOD> "` and a long route pattern. Every hosted
 * destination cuts names far shorter (GA4 40, Plausible 120); the warehouses keep what is sent.
 */
export const MAX_NAME_LENGTH = 1024
/**
 * `userId`: ids are UUIDs, numbers or emails (≤ 254). Above GA4's 256 on purpose: GA4 leaves out an
 * id it cannot store whole, and a cut shorter than its limit would make it merge users instead.
 */
export const MAX_USER_ID_LENGTH = 1024
/** `hostname`: a DNS name has at most 253 characters; the Host header is the client's to choose. */
export const MAX_HOSTNAME_LENGTH = 255
/** `locale`: the longest BCP 47 tag the header parser accepts is 71; the `locale` option's answer is cut alike. */
export const MAX_LOCALE_LENGTH = 128
/** `method`: the longest registered HTTP method (`UPDATEREDIRECTREF`) has 17 characters. */
export const MAX_METHOD_LENGTH = 32
/** `clientIP`: an IPv6 address with an IPv4 tail is 45 characters; a zone adds an interface name (≤ 15 on Linux). */
export const MAX_CLIENT_IP_LENGTH = 64
/** A property key: GA4 keeps 40 characters of a name, Plausible 300 bytes. */
export const MAX_PROPERTY_KEY_LENGTH = 256
/**
 * A property value: ≤ 4 kB of UTF-8. Plausible keeps 2000 bytes, GA4 100 characters; the 64
 * properties of an event then hold at most 64 × (256 + 1024) code points.
 */
export const MAX_PROPERTY_VALUE_LENGTH = 1024

/**
 * A visit: one visitor's run of events without a gap of the visit timeout (30 minutes by default),
 * ended early by a new campaign or a new external source. The attribution fields are the visit's
 * entry attribution: the same on every event of the visit, so revenue later in the visit is credited
 * to the campaign that brought the visitor.
 */
export interface Visit extends Attribution {
  /** A UUID, the same on every event of the visit. */
  id: string
  /** The visit's first event's time. */
  startedAt: Date
  /** The path of the visit's first event, after the privacy rules. */
  landingPath: string
}

/** A visit in the JSON form: `startedAt` as ISO 8601. */
export interface VisitJSON extends Attribution {
  id: string
  startedAt: string
  landingPath: string
}

/**
 * A property value, as given and as stored: a string (at most {@link MAX_PROPERTY_VALUE_LENGTH}
 * code points), a finite number, or a boolean. Each collector sends the type its destination
 * takes (GA4 numbers as numbers, Plausible everything as text, the warehouses and JSON as is).
 */
export type PropertyValue = string | number | boolean

/** Property values as stored, with their type. Keys live on a null-prototype object, so `__proto__` is data. */
export type EventProperties = Record<string, PropertyValue>

/**
 * One analytics event, as every collector receives it. Strings that are unknown are empty,
 * numbers that are unknown are 0. Collectors get it read-only and must copy what they keep.
 */
export interface AnalyticsEvent {
  /**
   * Unique and time-ordered (a UUIDv7, set at creation), or the id given to `track()`. Warehouse
   * collectors make retries idempotent on it: a row with an id already stored is not stored again.
   */
  id: string
  type: EventType
  /** Explicit name: set for custom events (and promoted automatic events). */
  eventName: string
  /** The action's name for action events: route config `analytics.action`, else `"<METHOD> <pattern>"`. */
  actionName: string
  timestamp: Date
  /**
   * The request this event came from, on the request thread only. Valid only during `collect`: never
   * keep it.
   * @deprecated Declare the headers a collector reads in its `requestHeaders` and read them from
   * `event.requestHeaders`: that works in both delivery modes. Removed in the next major version.
   */
  request: FastifyRequest | undefined
  /**
   * The request headers the registered collectors declared (`AnalyticsCollector.requestHeaders`),
   * lower-case names, first value of each; empty outside a request. Shared: never mutate it.
   */
  requestHeaders: Readonly<Record<string, string>>
  clientIP: string
  locale: string
  hostname: string
  userId: string
  /** The route pattern (`/users/:id`); empty for 404s. */
  matchedPattern: string
  /** Absolute URL (`https://host/path?query`), at most 2048 code points. */
  url: string
  path: string
  method: string
  userAgent: string
  referrer: string
  /**
   * Automatic events: from the request's start to its response (or abandonment), in milliseconds
   * rounded to 0.001 (whole microseconds). Tracked events: what `track` was given, rounded alike; else 0.
   */
  durationMs: number
  /**
   * Automatic events: the response's status; 499 when the client left first. Tracked events: what
   * `track` was given, else 0, meaning "no response status": a tracked event happens while the
   * request runs, before its status is final; the request's automatic event carries that status.
   */
  statusCode: number
  properties: EventProperties
  revenue: Money | undefined
  /** Browser, OS, device and bot flag of the visitor (empty outside a request). Shared: never mutate it. */
  client: Readonly<ClientInfo>
  /**
   * The consent it was emitted under: `'anonymous'` means nothing that re-identifies the visitor may
   * leave the process (the plugin has removed `userId` and truncated `clientIP`); `''` means no
   * decision was made. Set by the plugin (the `consent` and `respectGpc` options), never by `track()`.
   */
  consent: EventConsent
  /**
   * The cookieless visitor id: 32 lowercase hex characters, a keyed hash of a daily salt, the site's
   * host, the client IP and the user agent (so it changes every UTC day). `''` outside a request or
   * with `visits: false`.
   */
  visitorId: string
  /** The visit this event belongs to; `null` when `visitorId` is `''`. Shared: never mutate it. */
  visit: Readonly<Visit> | null
  /** ISO 3166-1 alpha-2 country of the client, upper case; `''` when unknown or with `geo: false`. */
  country: string
}

/**
 * What `track()` accepts: a type, and any fields to set explicitly (enrichment fills the rest). A
 * custom event needs its `eventName` (without one it is counted `invalid`); page views and actions
 * take none (an action's name is `actionName`).
 */
export type AnalyticsEventInput = CustomEventInput | PageViewEventInput | ActionEventInput

/** `track({ type: 'custom', eventName })`. */
export interface CustomEventInput extends EventInputFields {
  type: typeof EventType.Custom
  /** Required: a custom event is known by its name. */
  eventName: string
  /** Kept as given (the warehouse collectors store it); the hosted destinations send `eventName`. */
  actionName?: string
}

/** `track({ type: 'pageview' })`. */
export interface PageViewEventInput extends EventInputFields {
  type: typeof EventType.PageView
  /** A page view has no name of its own (`request.analytics.setEventName` makes a request's event custom). */
  eventName?: never
  actionName?: never
}

/** `track({ type: 'action', actionName? })`. */
export interface ActionEventInput extends EventInputFields {
  type: typeof EventType.Action
  /** Default: `"<METHOD> <pattern>"` of the request, as for automatic actions. */
  actionName?: string
  eventName?: never
}

/** The fields every `track()` input may set. */
export interface EventInputFields {
  /**
   * Your own id for this event: a UUID in canonical lowercase form. Tracking the same id twice (a
   * job re-run) stores it once in the warehouse collectors. Default: a fresh UUIDv7.
   */
  id?: string
  timestamp?: Date
  clientIP?: string
  locale?: string
  hostname?: string
  /** A number is stored as its string, as with `request.analytics.setUserId`. */
  userId?: string | number
  matchedPattern?: string
  url?: string
  path?: string
  method?: string
  userAgent?: string
  referrer?: string
  durationMs?: number
  statusCode?: number
  properties?: Record<string, PropertyValue>
  revenue?: Money
}

/** The JSON form of an event (stdout lines, webhook bodies, `memoryCollector` snapshots). */
export interface AnalyticsEventJSON {
  id: string
  type: EventType
  eventName: string
  actionName: string
  timestamp: string
  clientIP: string
  locale: string
  hostname: string
  userId: string
  matchedPattern: string
  url: string
  path: string
  method: string
  userAgent: string
  referrer: string
  durationMs: number
  statusCode: number
  properties: EventProperties
  revenue: MoneyJSON | null
  client: ClientInfo
  consent: EventConsent
  visitorId: string
  visit: VisitJSON | null
  country: string
}

export function isEventType (value: unknown): value is EventType {
  return value === 'pageview' || value === 'action' || value === 'custom'
}

/**
 * Milliseconds to 0.001 ms (whole microseconds): finer digits are timer noise, and a value such as
 * 3.7706759999999804 is float residue that every log line and destination would carry.
 */
export function roundDuration (ms: number): number {
  const rounded = Math.round(ms * 1000) / 1000
  return Number.isFinite(rounded) ? rounded : ms // beyond ~1e305 ms, ×1000 overflows; nothing to round there
}

/** What an event outside a request carries as `requestHeaders`. */
export const NO_REQUEST_HEADERS: Readonly<Record<string, string>> = Object.freeze(Object.create(null) as Record<string, string>)

/** A fully shaped event with every field empty: one object shape for V8, whatever path built it. */
export function createEvent (type: EventType, timestamp: Date, properties?: EventProperties): AnalyticsEvent {
  return {
    id: eventId(),
    type,
    eventName: '',
    actionName: '',
    timestamp,
    request: undefined,
    requestHeaders: NO_REQUEST_HEADERS,
    clientIP: '',
    locale: '',
    hostname: '',
    userId: '',
    matchedPattern: '',
    url: '',
    path: '',
    method: '',
    userAgent: '',
    referrer: '',
    durationMs: 0,
    statusCode: 0,
    properties: properties ?? Object.create(null) as EventProperties,
    revenue: undefined,
    client: EMPTY_CLIENT,
    consent: '',
    visitorId: '',
    visit: null,
    country: ''
  }
}

/**
 * A property value as it is stored, or undefined when it is not allowed: strings and booleans as
 * given; numbers when finite, `-0` stored as `0` (JSON, SQL and every destination write it so, and
 * `Object.is` would otherwise tell two equal values apart); NaN, ±Infinity, bigint and everything
 * else refused (the caller counts it dropped). A bigint is not silently made a float: the app picks
 * `Number(n)` or `String(n)`.
 */
export function propertyValue (value: unknown): PropertyValue | undefined {
  switch (typeof value) {
    case 'string': return value
    case 'number': return Number.isFinite(value) ? value + 0 : undefined
    case 'boolean': return value
    default: return undefined
  }
}

/**
 * A stored property value as text, for destinations that take text only (Plausible props) and for
 * text rules (email redaction): `String` of a number (`1.5`, `1e+21`), `'true'`/`'false'`.
 */
export function propertyText (value: PropertyValue): string {
  return typeof value === 'string' ? value : String(value)
}

/**
 * Adds one property under the 64-key cap, keeping its type. Returns false when it was dropped (a
 * value {@link propertyValue} refuses, or a new key beyond the cap); overwriting an existing key always works. The key and the value
 * are bounded like every event string (cuts reported to `cuts`): a key cut to the same first
 * 256 code points as another overwrites it.
 */
export function setProperty (properties: EventProperties, rawKey: unknown, value: unknown, cuts: TextCuts = UNCOUNTED): boolean {
  if (typeof rawKey !== 'string') return false
  const key = boundText(rawKey, MAX_PROPERTY_KEY_LENGTH, 'property key', cuts)
  if (key === '') return false
  const stored = propertyValue(value)
  if (stored === undefined) return false
  if (!(key in properties)) {
    // Counting keys is O(n) on a 64-entry object: cheaper than keeping a counter in sync.
    let count = 0
    for (const _ in properties) count++
    if (count >= MAX_PROPERTIES) return false
  }
  // Only text is bounded: a number or a boolean is at most 24 characters in any form.
  properties[key] = typeof stored === 'string' ? boundText(stored, MAX_PROPERTY_VALUE_LENGTH, 'property value', cuts) : stored
  return true
}

/** The event's string fields. */
export type EventStringField = 'eventName' | 'actionName' | 'clientIP' | 'locale' | 'hostname' | 'userId' |
'matchedPattern' | 'url' | 'path' | 'method' | 'userAgent' | 'referrer'

/** Each string field's cap in code points (the `MAX_*` constants above). */
export const STRING_FIELD_CAPS: Readonly<Record<EventStringField, number>> = Object.freeze({
  eventName: MAX_NAME_LENGTH,
  actionName: MAX_NAME_LENGTH,
  clientIP: MAX_CLIENT_IP_LENGTH,
  locale: MAX_LOCALE_LENGTH,
  hostname: MAX_HOSTNAME_LENGTH,
  userId: MAX_USER_ID_LENGTH,
  matchedPattern: MAX_FIELD_LENGTH,
  url: MAX_FIELD_LENGTH,
  path: MAX_FIELD_LENGTH,
  method: MAX_METHOD_LENGTH,
  userAgent: MAX_FIELD_LENGTH,
  referrer: MAX_FIELD_LENGTH
})

const STRING_FIELDS = Object.keys(STRING_FIELD_CAPS) as EventStringField[]

/** `value` bounded as the event's `field` may carry it: valid Unicode, no NUL, within the field's cap. */
export function boundField (field: EventStringField, value: string, cuts: TextCuts): string {
  return boundText(value, STRING_FIELD_CAPS[field], field, cuts)
}

/**
 * The earliest timestamp an event may carry: ClickHouse's `DateTime` starts at the Unix epoch
 * (ClickHouse 18.16 silently turns earlier ones into 1970-01-01 20:17 and reports success).
 */
export const MIN_TIMESTAMP = '1970-01-01T00:00:00.000Z'
/**
 * The latest: ClickHouse's `DateTime` ends at 2106-02-07T06:28:15Z; the last whole year before it.
 * (PostgreSQL's `timestamptz` refuses year 0000 and the webhook schema wants a four-digit year:
 * both are inside this range.)
 */
export const MAX_TIMESTAMP = '2105-12-31T23:59:59.999Z'
const MIN_TIMESTAMP_MS = Date.parse(MIN_TIMESTAMP)
const MAX_TIMESTAMP_MS = Date.parse(MAX_TIMESTAMP)

/** Whether every built-in destination can store this time (false for an invalid Date's NaN). */
export function isStorableTime (ms: number): boolean {
  return ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS
}

/** Why `normalizeEventInput` refused an input. */
export type InvalidEventReason = string

export interface NormalizedEvent {
  event: AnalyticsEvent
  /** Properties dropped for a bad value or beyond the 64 cap. */
  droppedProperties: number
}

/**
 * Validates what application code passed to `track()` and copies it into a fresh event
 * (the caller's object is never kept or mutated). Returns a reason string when it is unusable.
 * Strings are bounded with {@link boundField} (cuts reported to `cuts`).
 */
export function normalizeEventInput (input: unknown, now: Date, cuts: TextCuts = UNCOUNTED): NormalizedEvent | InvalidEventReason {
  if (input === null || typeof input !== 'object') return 'event must be an object'
  const source = input as Record<string, unknown>
  if (!isEventType(source.type)) return 'event.type must be "pageview", "action" or "custom"'
  const timestamp = source.timestamp
  if (timestamp !== undefined && !(timestamp instanceof Date && isStorableTime(timestamp.getTime()))) {
    return `event.timestamp must be a valid Date from ${MIN_TIMESTAMP} to ${MAX_TIMESTAMP} (what every built-in destination can store)`
  }
  const id = source.id
  if (id !== undefined && id !== null && (typeof id !== 'string' || !UUID_PATTERN.test(id))) {
    return 'event.id must be a UUID in canonical lowercase form'
  }
  const event = createEvent(source.type, (timestamp as Date | undefined) ?? now)
  if (typeof id === 'string') event.id = id
  for (const field of STRING_FIELDS) {
    let value = source[field]
    if (value === undefined || value === null) continue
    if (field === 'userId' && typeof value === 'number' && Number.isFinite(value)) value = String(value)
    if (typeof value !== 'string') return `event.${field} must be a string`
    event[field] = boundField(field, value, cuts)
  }
  event.clientIP = withoutZone(event.clientIP)
  if (event.type === EventType.Custom && event.eventName === '') return 'a custom event needs an eventName'
  // The types refuse these (PageViewEventInput, ActionEventInput); JavaScript callers get the same rule
  // rather than a name no destination would show: a named page view is a custom event.
  // Empty names pass: an event the plugin built (what `beforeSend` returns) carries them as ''.
  if (event.type !== EventType.Custom && event.eventName !== '') {
    return `a ${event.type} event takes no eventName: track({ type: 'custom', eventName }) names an event`
  }
  if (event.type === EventType.PageView && event.actionName !== '') return 'a pageview event takes no actionName'
  for (const field of ['durationMs', 'statusCode'] as const) {
    const value = source[field]
    if (value === undefined || value === null) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return `event.${field} must be a finite number ≥ 0`
    event[field] = value
  }
  event.durationMs = roundDuration(event.durationMs)
  if (!Number.isSafeInteger(event.statusCode)) return 'event.statusCode must be an integer'
  if (source.revenue !== undefined && source.revenue !== null) {
    if (!Money.isMoney(source.revenue)) return 'event.revenue must be a Money (Money.fromMinor / Money.fromDecimal)'
    event.revenue = source.revenue
  }
  let droppedProperties = 0
  const properties = source.properties
  if (properties !== undefined && properties !== null) {
    if (typeof properties !== 'object') return 'event.properties must be an object'
    // Object.keys gives own keys only; `__proto__` given through JSON.parse is an own key and stays data.
    for (const key of Object.keys(properties)) {
      if (!setProperty(event.properties, key, (properties as Record<string, unknown>)[key], cuts)) droppedProperties++
    }
  }
  return { event, droppedProperties }
}

/** The JSON form of an event, shared by the stdout and webhook collectors and the memory collector. */
export function eventToJSON (event: Readonly<AnalyticsEvent>): AnalyticsEventJSON {
  return {
    id: event.id,
    type: event.type,
    eventName: event.eventName,
    actionName: event.actionName,
    timestamp: event.timestamp.toISOString(),
    clientIP: event.clientIP,
    locale: event.locale,
    hostname: event.hostname,
    userId: event.userId,
    matchedPattern: event.matchedPattern,
    url: event.url,
    path: event.path,
    method: event.method,
    userAgent: event.userAgent,
    referrer: event.referrer,
    durationMs: event.durationMs,
    statusCode: event.statusCode,
    properties: { ...event.properties },
    revenue: event.revenue === undefined ? null : event.revenue.toJSON(),
    client: { ...event.client },
    consent: event.consent,
    visitorId: event.visitorId,
    visit: event.visit === null ? null : visitToJSON(event.visit),
    country: event.country
  }
}

export function visitToJSON (visit: Readonly<Visit>): VisitJSON {
  return {
    id: visit.id,
    startedAt: visit.startedAt.toISOString(),
    landingPath: visit.landingPath,
    channel: visit.channel,
    source: visit.source,
    medium: visit.medium,
    campaign: visit.campaign,
    term: visit.term,
    content: visit.content,
    clickId: visit.clickId
  }
}
