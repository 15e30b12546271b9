import { EventType, type AnalyticsEvent } from '../../event.js'
import type { OutgoingRequest, PreparedBatch } from '../../batch/types.js'
import { collectorIp } from '../../privacy/index.js'
import type { IpPolicy } from '../../privacy/ip.js'
import { jsonScalar, type JsonScalar } from '../json-values.js'
import { SEGMENT_MAX_BATCH_BYTES, SEGMENT_MAX_BATCH_MESSAGES } from './limits.js'

/** `context.library`: who sent the message, as every Segment library says. */
const LIBRARY = { name: 'fastify-analytics' } as const

/** The page a message happened on: `context.page`, and a page call's own properties. */
export interface SegmentPage {
  path: string
  referrer?: string
  search?: string
  url: string
}

export interface SegmentCampaign {
  name?: string
  source?: string
  medium?: string
  term?: string
  content?: string
}

export interface SegmentContext {
  library: typeof LIBRARY
  ip?: string
  userAgent?: string
  locale?: string
  page: SegmentPage
  campaign?: SegmentCampaign
}

/** One message of `POST /v1/batch`: a `page` call for page views, a `track` call for the rest. */
export interface SegmentMessage {
  type: 'page' | 'track'
  messageId: string
  timestamp: string
  anonymousId?: string
  userId?: string
  /** `track` calls: the event's name. */
  event?: string
  /** `page` calls: the page's name (the route pattern). */
  name?: string
  properties: Record<string, JsonScalar>
  context: SegmentContext
}

/** The page fields of an event: path, query string, absolute URL and referrer. */
export function segmentPage (event: Readonly<AnalyticsEvent>): SegmentPage {
  const page: SegmentPage = { path: event.path, url: event.url }
  const query = event.url.indexOf('?')
  if (query !== -1) {
    const hash = event.url.indexOf('#', query)
    const search = hash === -1 ? event.url.slice(query) : event.url.slice(query, hash)
    if (search.length > 1) page.search = search
  }
  if (event.referrer !== '') page.referrer = event.referrer
  return page
}

/** `context.campaign` from the visit's entry attribution; undefined for a direct visit or none. */
export function segmentCampaign (event: Readonly<AnalyticsEvent>): SegmentCampaign | undefined {
  const visit = event.visit
  if (visit === null || visit.source === '' || visit.source === '(direct)') return undefined
  const campaign: SegmentCampaign = { source: visit.source }
  if (visit.medium !== '') campaign.medium = visit.medium
  if (visit.campaign !== '') campaign.name = visit.campaign
  if (visit.term !== '') campaign.term = visit.term
  if (visit.content !== '') campaign.content = visit.content
  return campaign
}

/**
 * The message's properties: the event's own, each as the JSON type it has, then what the event
 * itself knows (a page call's url/path/referrer/search; revenue as Segment's `revenue` and
 * `currency`), which win over an app property of the same name: Segment's destinations read them.
 */
function segmentProperties (event: Readonly<AnalyticsEvent>, page: SegmentPage | undefined): Record<string, JsonScalar> {
  // Null prototype: a `__proto__` property stays data, as on the event.
  const properties = Object.create(null) as Record<string, JsonScalar>
  const own = event.properties as Readonly<Record<string, unknown>>
  for (const key in own) {
    const value = jsonScalar(own[key])
    if (value !== undefined) properties[key] = value
  }
  if (page !== undefined) {
    properties.path = page.path
    properties.url = page.url
    if (page.referrer !== undefined) properties.referrer = page.referrer
    if (page.search !== undefined) properties.search = page.search
  }
  if (event.statusCode !== 0 && !('statusCode' in properties)) properties.statusCode = event.statusCode
  if (event.durationMs !== 0 && !('durationMs' in properties)) properties.durationMs = event.durationMs
  if (event.revenue !== undefined) {
    // The event's Money is the revenue: an app's own properties of those names move aside, not lost.
    moveAside(properties, 'revenue')
    moveAside(properties, 'currency')
    // Segment's `revenue` is a number in the currency's major unit (its e-commerce spec's `Order Completed`).
    properties.revenue = event.revenue.toNumber()
    properties.currency = event.revenue.currency
  } else if ('currency' in properties && !(typeof properties.revenue === 'number' && ISO_CURRENCY.test(String(properties.currency)))) {
    // Segment's destinations read `currency` as the ISO 4217 code of a numeric `revenue`: an app
    // property that is not one would be taken for revenue data. It goes as `x_currency`.
    moveAside(properties, 'currency')
  }
  return properties
}

const ISO_CURRENCY = /^[A-Z]{3}$/

/** Renames an app property that would be read as one of Segment's spec fields to `x_<name>` (GA4's `items` rule). */
function moveAside (properties: Record<string, JsonScalar>, key: string): void {
  if (!(key in properties)) return
  properties[`x_${key}`] = properties[key]
  delete properties[key]
}

/** The name of a track call: the action's name for actions, the event's name otherwise. */
export function segmentEventName (event: Readonly<AnalyticsEvent>): string {
  return event.type === EventType.Action && event.actionName !== '' ? event.actionName : event.eventName
}

/**
 * Builds the message for one event, or returns why it cannot be sent. `anonymousId` is the
 * visitor id; an event without one and without a user id (a job's `track()`, `visits: false`)
 * takes its own id, so Segment (which requires one of the two) counts it as a one-event visitor
 * rather than merging unrelated events into one.
 */
export function segmentMessage (event: Readonly<AnalyticsEvent>, ipPolicy: IpPolicy): SegmentMessage | string {
  const page = segmentPage(event)
  const isPage = event.type === EventType.PageView
  const context: SegmentContext = { library: LIBRARY, page }
  const ip = collectorIp(event, ipPolicy)
  if (ip !== '' && !ip.includes('%')) context.ip = ip
  if (event.userAgent !== '') context.userAgent = event.userAgent
  if (event.locale !== '') context.locale = event.locale
  const campaign = segmentCampaign(event)
  if (campaign !== undefined) context.campaign = campaign
  const message: SegmentMessage = {
    type: isPage ? 'page' : 'track',
    messageId: event.id,
    timestamp: event.timestamp.toISOString(),
    properties: segmentProperties(event, isPage ? page : undefined),
    context
  }
  if (event.visitorId !== '') message.anonymousId = event.visitorId
  if (event.userId !== '') message.userId = event.userId
  else if (event.visitorId === '') message.anonymousId = event.id
  if (isPage) {
    const name = event.eventName !== '' ? event.eventName : event.matchedPattern
    if (name !== '') message.name = name
  } else {
    const name = segmentEventName(event)
    // Segment refuses a track call without an event name.
    if (name.trim() === '') return `a ${event.type} event without a name`
    message.event = name
  }
  return message
}

/** A queued message: its JSON, serialized once at collect, and its size in bytes. */
export interface SegmentItem {
  json: string
  bytes: number
}

const HEAD = '{"batch":['
const HEAD_BYTES = HEAD.length
const TAIL_BYTES = 2 // `]}`

/**
 * Encodes a batch as requests of at most 500 KB and 2500 messages each. `sentAt` is left out on
 * purpose: a retry re-sends the same bytes, so a `sentAt` frozen at the first attempt would make
 * Segment's clock-skew correction move a retried batch's events by the retry delay.
 */
export function encodeSegmentBatch (items: SegmentItem[], path: string, headers: Record<string, string>): PreparedBatch {
  const requests: OutgoingRequest[] = []
  let start = 0
  let size = HEAD_BYTES + TAIL_BYTES
  for (let i = 0; i < items.length; i++) {
    const count = i - start
    const added = count === 0 ? items[i].bytes : items[i].bytes + 1
    if (count > 0 && (count === SEGMENT_MAX_BATCH_MESSAGES || size + added > SEGMENT_MAX_BATCH_BYTES)) {
      requests.push(request(items, start, i, size, path, headers))
      start = i
      size = HEAD_BYTES + TAIL_BYTES + items[i].bytes
    } else {
      size += added
    }
  }
  if (start < items.length) requests.push(request(items, start, items.length, size, path, headers))
  return { requests, invalid: 0 }
}

/** One request, its body written once into a buffer of its exact size. */
function request (items: SegmentItem[], from: number, to: number, size: number, path: string, headers: Record<string, string>): OutgoingRequest {
  const body = Buffer.allocUnsafe(size)
  let at = body.write(HEAD, 0, HEAD_BYTES, 'latin1')
  for (let i = from; i < to; i++) {
    if (i > from) body[at++] = 0x2c // ,
    at += body.write(items[i].json, at, items[i].bytes, 'utf8')
  }
  body[at++] = 0x5d // ]
  body[at++] = 0x7d // }
  return { path, headers: { ...headers }, body, events: to - from }
}
