import type { ClientInfo } from '../client.js'
import type { CrawlerInfo } from '../crawlers/types.js'
import { NO_REQUEST_HEADERS, type AnalyticsEvent, type AnalyticsEventJSON, type EventProperties, type PropertyValue, type Visit } from '../event.js'
import { Money } from '../money.js'

/** One value of a {@link WireEvent}: only primitives, which structured clone copies cheaply. */
export type WireValue = string | number | boolean | bigint | null | undefined

/**
 * One event as it crosses to the worker: a flat array of primitives in a fixed order (the fields
 * below, the timestamp in ms, the revenue's minor units and currency, the client's fields, the
 * visit, the count of request headers), then the declared request headers and the properties, each
 * as name, value pairs. Measured against the event's
 * JSON form (nested objects, an ISO timestamp): cloning objects costs a key per field and a map per
 * object, and building the JSON form costs as much again (bench/RESULTS.md, profile of
 * four-noctx-worker; shared/reference/offthread-delivery.md measured tuples at 0.63 µs against 1.0
 * for objects).
 */
export type WireEvent = WireValue[]

const FIELDS = [
  'id', 'type', 'eventName', 'actionName', 'clientIP', 'locale', 'hostname', 'userId', 'matchedPattern',
  'url', 'path', 'method', 'userAgent', 'referrer', 'durationMs', 'statusCode', 'consent', 'visitorId', 'country'
] as const satisfies ReadonlyArray<keyof AnalyticsEvent & keyof AnalyticsEventJSON>
const CLIENT_FIELDS = ['browser', 'browserVersion', 'os', 'osVersion', 'device', 'bot'] as const satisfies ReadonlyArray<keyof ClientInfo>
// The client's crawler crosses as its four fields after the client's, `null` in the first for none.
const CRAWLER_FIELDS = ['name', 'operator', 'purpose', 'verified'] as const satisfies ReadonlyArray<keyof CrawlerInfo>
// The visit's string fields; `startedAt` crosses as ms before them, `null` there meaning no visit.
const VISIT_FIELDS = ['id', 'landingPath', 'channel', 'source', 'medium', 'campaign', 'term', 'content', 'clickId'] as const satisfies ReadonlyArray<keyof Visit>

// A field added to the JSON form must be added here too, or the build fails: every collector in the
// worker must see the same event as inline.
type Carried = typeof FIELDS[number] | 'timestamp' | 'revenue' | 'client' | 'properties' | 'visit'
const everyFieldCarried: [Exclude<keyof AnalyticsEventJSON, Carried>] extends [never] ? true : never = true
const everyClientFieldCarried: [Exclude<keyof ClientInfo, typeof CLIENT_FIELDS[number] | 'crawler'>] extends [never] ? true : never = true
const everyCrawlerFieldCarried: [Exclude<keyof CrawlerInfo, typeof CRAWLER_FIELDS[number]>] extends [never] ? true : never = true
const everyVisitFieldCarried: [Exclude<keyof Visit, typeof VISIT_FIELDS[number] | 'startedAt'>] extends [never] ? true : never = true
void everyFieldCarried
void everyClientFieldCarried
void everyCrawlerFieldCarried
void everyVisitFieldCarried

const TIMESTAMP = FIELDS.length
const REVENUE = TIMESTAMP + 1
const CLIENT = REVENUE + 2
const CRAWLER = CLIENT + CLIENT_FIELDS.length
const VISIT = CRAWLER + CRAWLER_FIELDS.length
const HEADERS = VISIT + 1 + VISIT_FIELDS.length
const PAIRS = HEADERS + 1

/** Encodes an event on the request thread, while its request is still valid. Throws on an invalid Date, as the JSON form does. */
export function encodeEvent (event: Readonly<AnalyticsEvent>): WireEvent {
  const ms = event.timestamp.getTime()
  if (Number.isNaN(ms)) throw new RangeError('Invalid time value')
  const wire: WireEvent = new Array(PAIRS)
  for (let i = 0; i < FIELDS.length; i++) wire[i] = event[FIELDS[i]]
  wire[TIMESTAMP] = ms
  const revenue = event.revenue
  wire[REVENUE] = revenue === undefined ? null : revenue.minor
  wire[REVENUE + 1] = revenue === undefined ? null : revenue.currency
  const client = event.client
  for (let i = 0; i < CLIENT_FIELDS.length; i++) wire[CLIENT + i] = client[CLIENT_FIELDS[i]]
  // `?? null`: a custom collector's or an older test's client may not carry the field.
  const crawler = client.crawler ?? null
  for (let i = 0; i < CRAWLER_FIELDS.length; i++) wire[CRAWLER + i] = crawler === null ? null : crawler[CRAWLER_FIELDS[i]]
  const visit = event.visit
  if (visit === null) {
    wire[VISIT] = null
  } else {
    wire[VISIT] = visit.startedAt.getTime()
    for (let i = 0; i < VISIT_FIELDS.length; i++) wire[VISIT + 1 + i] = visit[VISIT_FIELDS[i]]
  }
  // Only the headers collectors declared were captured: the app's others never reach the worker.
  const headers = event.requestHeaders
  let headerCount = 0
  for (const name in headers) {
    wire.push(name, headers[name])
    headerCount++
  }
  wire[HEADERS] = headerCount
  const properties = event.properties
  for (const key in properties) wire.push(key, properties[key])
  return wire
}

/** The size of a wire event for the channel's byte bound: its strings' lengths (as the engine counts an item), 8 for anything else. */
export function wireBytes (wire: WireEvent): number {
  let bytes = 0
  for (let i = 0; i < wire.length; i++) {
    const value = wire[i]
    bytes += typeof value === 'string' ? value.length : 8
  }
  return bytes
}

/** Rebuilds an event-like object in the worker, with its Date, Money and properties restored. */
export function decodeEvent (wire: WireEvent): AnalyticsEvent {
  const event: Record<string, unknown> = {}
  for (let i = 0; i < FIELDS.length; i++) event[FIELDS[i]] = wire[i]
  event.timestamp = new Date(wire[TIMESTAMP] as number)
  const minor = wire[REVENUE]
  // From minor units, not Money.fromDecimal: a Money made from a bigint can have more digits than an
  // amount an app may type (fromDecimal's bound).
  event.revenue = minor === null ? undefined : Money.fromMinor(minor as bigint, wire[REVENUE + 1] as string)
  const client: Record<string, WireValue> = {}
  for (let i = 0; i < CLIENT_FIELDS.length; i++) client[CLIENT_FIELDS[i]] = wire[CLIENT + i]
  if (wire[CRAWLER] === null) {
    client.crawler = null
  } else {
    const crawler: Record<string, WireValue> = {}
    for (let i = 0; i < CRAWLER_FIELDS.length; i++) crawler[CRAWLER_FIELDS[i]] = wire[CRAWLER + i]
    ;(client as Record<string, unknown>).crawler = Object.freeze(crawler)
  }
  event.client = Object.freeze(client)
  const startedAt = wire[VISIT]
  if (startedAt === null) {
    event.visit = null
  } else {
    const visit: Record<string, unknown> = { startedAt: new Date(startedAt as number) }
    for (let i = 0; i < VISIT_FIELDS.length; i++) visit[VISIT_FIELDS[i]] = wire[VISIT + 1 + i]
    event.visit = Object.freeze(visit)
  }
  event.request = undefined
  const propertiesAt = PAIRS + 2 * (wire[HEADERS] as number)
  let headers = NO_REQUEST_HEADERS
  if (propertiesAt > PAIRS) {
    headers = Object.create(null) as Record<string, string>
    for (let i = PAIRS; i < propertiesAt; i += 2) (headers as Record<string, string>)[wire[i] as string] = wire[i + 1] as string
  }
  event.requestHeaders = headers
  // Plain assignment on a null-prototype object: a `__proto__` key stays data.
  const properties = Object.create(null) as EventProperties
  // Values keep their type: a number or a boolean crossed as one.
  for (let i = propertiesAt; i < wire.length; i += 2) properties[wire[i] as string] = wire[i + 1] as PropertyValue
  event.properties = properties
  return event as unknown as AnalyticsEvent
}
