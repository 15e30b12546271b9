import { EventType, truncateCodePoints, type AnalyticsEvent, type PropertyValue, type Visit } from '../../event.js'
import type { OutgoingRequest, PreparedBatch } from '../../batch/types.js'
import {
  ECOMMERCE_EVENT_NAMES, MAX_PAGE_LOCATION_LENGTH, MAX_PAGE_REFERRER_LENGTH, MAX_PARAM_VALUE_LENGTH, MAX_PARAMS_PER_EVENT,
  TRANSACTION_EVENT_NAMES, TRANSACTION_ID_PROPERTY, eventName, paramName
} from './names.js'

/** Events per Measurement Protocol request. */
export const MAX_EVENTS_PER_REQUEST = 25
/** A request body must be smaller than 130 kB; measured in encoded bytes, never in characters. */
export const MAX_BODY_BYTES = 130_000
/**
 * GA4 takes events up to 72 h old (older ones are clamped, or refused under ENFORCE_RECOMMENDATIONS).
 * We stop 10 minutes short: that is the budget for queueing and retries (5 attempts of ≤ 10 s with
 * ≤ 30 s between them), so no event we send reaches Google past the window.
 */
export const MAX_EVENT_AGE_MS = 72 * 3_600_000 - 10 * 60_000
/** User-ID values are capped at 256 characters (GA support 9267744). */
export const MAX_USER_ID_LENGTH = 256
/**
 * Every event says the visitor was engaged for 1 ms: GA counts no active users without
 * `engagement_time_msec` ≥ 1, and a server cannot measure engagement, so we claim the minimum.
 */
export const ENGAGEMENT_TIME_MSEC = 1

export type Ga4Params = Record<string, string | number>

/** One event as it goes on the wire. Key order is the JSON order. */
export interface Ga4Event {
  name: string
  params: Ga4Params
  timestamp_micros: number
}

/** What `collect` keeps of an event: the wire event plus its request-level fields. */
export interface Ga4Item {
  clientId: string
  /** '' when absent. */
  userId: string
  /** `ip_override`; '' when absent. */
  ip: string
  /** The request-level `device` object as JSON; '' when nothing is known. */
  device: string
  /** The visitor chose `'anonymous'`: the request says `consent: { ad_user_data: DENIED, ad_personalization: DENIED }`. */
  adsDenied: boolean
  /** The event's time in ms, for the age check at encoding. */
  atMs: number
  /** No `_ga_<stream>` cookie: `session_id` is filled in from the session store when the batch is prepared. */
  sessionPending: boolean
  /**
   * A `campaign_details` event sent just before `event` (the first event of a visit that came from
   * a campaign or another site): the same item in the accounting, two events on the wire.
   */
  campaign?: Ga4Event
  event: Ga4Event
}

/**
 * The Measurement Protocol's `campaign_details` event (MP reference, "Events": campaign_details with
 * `campaign_id`, `campaign`, `source`, `medium`, `term`, `content`): GA4 applies it to the events that
 * follow it, which is how a server says where a session came from. Undefined for a Direct visit.
 */
export function buildCampaignDetails (visit: Readonly<Visit>, sessionId: number, atMs: number): Ga4Event | undefined {
  if (visit.channel === 'Direct' && visit.source === '(direct)') return undefined
  const params: Ga4Params = { session_id: sessionId, engagement_time_msec: ENGAGEMENT_TIME_MSEC }
  if (visit.campaign !== '') params.campaign = truncateCodePoints(visit.campaign, MAX_PARAM_VALUE_LENGTH)
  if (visit.source !== '') params.source = truncateCodePoints(visit.source, MAX_PARAM_VALUE_LENGTH)
  if (visit.medium !== '') params.medium = truncateCodePoints(visit.medium, MAX_PARAM_VALUE_LENGTH)
  if (visit.term !== '') params.term = truncateCodePoints(visit.term, MAX_PARAM_VALUE_LENGTH)
  if (visit.content !== '') params.content = truncateCodePoints(visit.content, MAX_PARAM_VALUE_LENGTH)
  return { name: 'campaign_details', params, timestamp_micros: atMs * 1000 }
}

/** The wire name of an event: `page_view`, the action's name, or the custom event's name, made valid. */
export function ga4EventName (event: Readonly<AnalyticsEvent>): string {
  switch (event.type) {
    case EventType.PageView: return 'page_view'
    case EventType.Action: return eventName(event.actionName, 'server_action')
    default: return eventName(event.eventName, 'custom_event')
  }
}

/**
 * The event's revenue as GA4's `value`: major units as a number (Money's minor units over the
 * currency's ISO 4217 exponent, from Intl: 2999 GBP → 29.99, 500 JPY → 500, 1500 KWD → 1.5);
 * undefined without revenue, or for an amount too large for a float to hold.
 */
function revenueValue (event: Readonly<AnalyticsEvent>): number | undefined {
  const value = event.revenue?.toNumber()
  return value !== undefined && Number.isFinite(value) ? value : undefined
}

/**
 * The wire name: `mapped` (the collector's `eventNames` option, already made valid) when the app
 * chose one; else, for an event with revenue whose own name is not a GA4 ecommerce event, `purchase`
 * (the event GA4's Monetization reports count); else {@link ga4EventName}.
 */
export function ga4WireName (event: Readonly<AnalyticsEvent>, mapped?: string): string {
  if (mapped !== undefined) return mapped
  const name = ga4EventName(event)
  return revenueValue(event) !== undefined && !ECOMMERCE_EVENT_NAMES.has(name) ? 'purchase' : name
}

/**
 * A property value as a GA4 parameter: text cut to 100 characters; a finite number as a number (so
 * a custom metric can sum it); a boolean as `'true'`/`'false'`, as gtag.js sends one (GA4 parameters
 * are text or numbers). Undefined for anything else (a NaN `beforeSend` put there).
 */
function paramValue (value: PropertyValue): string | number | undefined {
  switch (typeof value) {
    case 'string': return truncateCodePoints(value, MAX_PARAM_VALUE_LENGTH)
    case 'number': return Number.isFinite(value) ? value : undefined
    case 'boolean': return value ? 'true' : 'false'
    default: return undefined
  }
}

/**
 * `transaction_id` of a purchase or refund: the app's `transaction_id` property (its order number,
 * which GA4 deduplicates purchases on) when it is text or a number, else the event's id (unique, and
 * the same on every retry).
 */
function transactionId (event: Readonly<AnalyticsEvent>): string {
  const own = event.properties[TRANSACTION_ID_PROPERTY]
  if (typeof own === 'string' && own !== '') return truncateCodePoints(own, MAX_PARAM_VALUE_LENGTH)
  if (typeof own === 'number' && Number.isFinite(own)) return String(own)
  return event.id
}

/**
 * Builds the wire event, named `name` (default {@link ga4WireName}). The parameters this collector
 * sets come first and always win: session, page, language, then for an event with revenue `value`
 * and `currency`, and for a `purchase` or `refund` its `transaction_id`. Properties follow, renamed
 * when their name is not valid or belongs to a standard parameter, numbers kept numbers, text cut to
 * 100 characters, until the event holds 25 parameters. Two properties that map to one name: the first wins.
 */
export function buildGa4Event (event: Readonly<AnalyticsEvent>, sessionId: number, atMs: number, name: string = ga4WireName(event)): Ga4Event {
  // A plain literal, not Object.create(null): V8 keeps it a fast object, for building and for
  // JSON.stringify. Names are made valid first, so `__proto__` can never be assigned.
  const params: Ga4Params = { session_id: sessionId, engagement_time_msec: ENGAGEMENT_TIME_MSEC }
  let count = 2
  if (event.url !== '') { params.page_location = truncateCodePoints(event.url, MAX_PAGE_LOCATION_LENGTH); count++ }
  if (event.referrer !== '') { params.page_referrer = truncateCodePoints(event.referrer, MAX_PAGE_REFERRER_LENGTH); count++ }
  if (event.locale !== '') { params.language = truncateCodePoints(event.locale, MAX_PARAM_VALUE_LENGTH); count++ }
  const value = revenueValue(event)
  if (value !== undefined) {
    // GA4 computes revenue only when `currency` comes with `value`: always both.
    params.value = value
    params.currency = (event.revenue as NonNullable<AnalyticsEvent['revenue']>).currency
    count += 2
  }
  if (TRANSACTION_EVENT_NAMES.has(name)) { params.transaction_id = transactionId(event); count++ }
  const properties = event.properties
  for (const key in properties) {
    if (count >= MAX_PARAMS_PER_EVENT) break
    const param = paramName(key)
    // hasOwn, not `in`: `constructor` is a valid name that every plain object inherits.
    if (param === '' || Object.hasOwn(params, param)) continue
    const wire = paramValue(properties[key])
    if (wire === undefined) continue
    params[param] = wire
    count++
  }
  return { name, params, timestamp_micros: atMs * 1000 }
}

/** The Measurement Protocol's `device` object (MP reference, "device"). Key order is the JSON order. */
export interface Ga4Device {
  category?: string
  language?: string
  operating_system?: string
  operating_system_version?: string
  browser?: string
  browser_version?: string
}

// GA4's own device categories ("desktop", "mobile", "tablet", "smart TV"): a bot has none to report.
const DEVICE_CATEGORIES: Partial<Record<string, string>> = { desktop: 'desktop', mobile: 'mobile', tablet: 'tablet', tv: 'smart TV' }

/**
 * The request-level `device` object as JSON, so GA4 reports show devices instead of `(not set)`;
 * '' when nothing is known. Values are cut to 100 characters like event parameters (the MP
 * reference gives no limit of its own for them).
 */
export function ga4Device (event: Readonly<AnalyticsEvent>): string {
  const client = event.client
  // The classifier hands every request of a User-Agent the same frozen ClientInfo: its device JSON
  // is made once per client and locale rather than per event. A client that is not frozen may
  // change, so it is never remembered.
  const memo = devices.get(client)
  if (memo !== undefined && memo.locale === event.locale) return memo.json
  const json = deviceJSON(client, event.locale)
  if (typeof client === 'object' && client !== null && Object.isFrozen(client)) devices.set(client, { locale: event.locale, json })
  return json
}

const devices = new WeakMap<Readonly<AnalyticsEvent['client']>, { locale: string, json: string }>()

function deviceJSON (client: Readonly<AnalyticsEvent['client']>, locale: string): string {
  const device: Ga4Device = {}
  let empty = true
  const category = DEVICE_CATEGORIES[client.device]
  if (category !== undefined) { device.category = category; empty = false }
  if (locale !== '') { device.language = truncateCodePoints(locale, MAX_PARAM_VALUE_LENGTH); empty = false }
  if (client.os !== '') { device.operating_system = truncateCodePoints(client.os, MAX_PARAM_VALUE_LENGTH); empty = false }
  if (client.osVersion !== '') { device.operating_system_version = truncateCodePoints(client.osVersion, MAX_PARAM_VALUE_LENGTH); empty = false }
  if (client.browser !== '') { device.browser = truncateCodePoints(client.browser, MAX_PARAM_VALUE_LENGTH); empty = false }
  if (client.browserVersion !== '') { device.browser_version = truncateCodePoints(client.browserVersion, MAX_PARAM_VALUE_LENGTH); empty = false }
  return empty ? '' : JSON.stringify(device)
}

/** `user_id` when it fits: a cut id would merge two users into one, so a longer one is left out. */
export function ga4UserId (userId: string): string {
  if (userId.length <= MAX_USER_ID_LENGTH) return userId
  return [...userId].length <= MAX_USER_ID_LENGTH ? userId : ''
}

/** Request-level `consent` for an anonymous visitor (Measurement Protocol reference: `consent`). */
const ADS_DENIED = ',"consent":{"ad_user_data":"DENIED","ad_personalization":"DENIED"}'

/** Items that share every request-level field: one or more requests of their own. */
interface Group {
  first: Ga4Item
  items: Ga4Item[]
}

/** Whether two items can share a request: the same request-level fields (client_id compared by the caller). */
function sameRequest (a: Ga4Item, b: Ga4Item): boolean {
  return a.userId === b.userId && a.ip === b.ip && a.device === b.device && a.adsDenied === b.adsDenied
}

/**
 * Turns a batch into Measurement Protocol requests: one group per (client_id, user_id, ip_override,
 * device, consent),
 * since those are request-level fields, each cut into chunks of ≤ 25 events and < 130 kB.
 * Groups keep the order of their first event; events keep their order within a group.
 */
export function encodeGa4Batch (items: readonly Ga4Item[], path: string, nowMs: number): PreparedBatch {
  let invalid = 0
  // Looked up by client_id (a string the client id memo hands out again and again, its hash kept),
  // then compared field by field: a key joining the five fields was built and hashed per event.
  const byClient = new Map<string, Group | Group[]>()
  const groups: Group[] = []
  for (const item of items) {
    if (nowMs - item.atMs > MAX_EVENT_AGE_MS) { invalid++; continue }
    const found = byClient.get(item.clientId)
    let group: Group | undefined
    if (found === undefined) {
      group = { first: item, items: [] }
      byClient.set(item.clientId, group)
      groups.push(group)
    } else if (!Array.isArray(found)) {
      if (sameRequest(found.first, item)) group = found
      else {
        group = { first: item, items: [] }
        byClient.set(item.clientId, [found, group])
        groups.push(group)
      }
    } else {
      group = found.find((candidate) => sameRequest(candidate.first, item))
      if (group === undefined) {
        group = { first: item, items: [] }
        found.push(group)
        groups.push(group)
      }
    }
    group.items.push(item)
  }
  const requests: OutgoingRequest[] = []
  for (const { first, items: group } of groups) {
    let head = `{"client_id":${JSON.stringify(first.clientId)}`
    if (first.userId !== '') head += `,"user_id":${JSON.stringify(first.userId)}`
    if (first.ip !== '') head += `,"ip_override":${JSON.stringify(first.ip)}`
    if (first.device !== '') head += `,"device":${first.device}`
    if (first.adsDenied) head += ADS_DENIED
    head += ',"events":['
    const headBytes = Buffer.byteLength(head)
    const overhead = headBytes + 2 // the closing `]}`
    let parts: string[] = []
    let sizes: number[] = []
    let size = overhead
    // Wire events in the current request: an item with a campaign_details event is two.
    let events = 0
    for (const item of group) {
      const json = item.campaign === undefined ? JSON.stringify(item.event) : `${JSON.stringify(item.campaign)},${JSON.stringify(item.event)}`
      const weight = item.campaign === undefined ? 1 : 2
      const bytes = Buffer.byteLength(json)
      // Unreachable with the caps above (an event is at most a few kB), but never send what GA refuses.
      if (overhead + bytes >= MAX_BODY_BYTES) { invalid++; continue }
      if (events + weight > MAX_EVENTS_PER_REQUEST || (parts.length > 0 && size + 1 + bytes >= MAX_BODY_BYTES)) {
        requests.push(request(path, head, headBytes, parts, sizes, size))
        parts = []
        sizes = []
        size = overhead
        events = 0
      }
      size += parts.length === 0 ? bytes : bytes + 1
      parts.push(json)
      sizes.push(bytes)
      events += weight
    }
    if (parts.length > 0) requests.push(request(path, head, headBytes, parts, sizes, size))
  }
  return { requests, invalid }
}

/**
 * One request, its body encoded once into a buffer of its exact size (`size`, counted while the
 * parts were chosen): no joined string for undici to flatten and encode again.
 */
function request (path: string, head: string, headBytes: number, parts: string[], sizes: number[], size: number): OutgoingRequest {
  const body = Buffer.allocUnsafe(size)
  let at = body.write(head, 0, headBytes, 'utf8')
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) body[at++] = 0x2c // ,
    at += body.write(parts[i], at, sizes[i], 'utf8')
  }
  body[at++] = 0x5d // ]
  body[at++] = 0x7d // }
  return { path, headers: { 'content-type': 'application/json' }, body, events: parts.length }
}
