import { createHash } from 'node:crypto'
import { EventType, truncateCodePoints, type AnalyticsEvent } from '../../event.js'
import { collectorIp, type IpPolicy } from '../../privacy/index.js'
import { campaignProperties, copyProperties, referringDomain } from '../json-values.js'
import { LIBRARY_NAME, LIBRARY_VERSION } from '../library.js'
import {
  MIXPANEL_INSERT_ID, MIXPANEL_INVALID_DISTINCT_IDS, MIXPANEL_MAX_FUTURE_MS, MIXPANEL_MAX_STRING_LENGTH, MIXPANEL_MIN_TIME_MS
} from './limits.js'

/** One event as `/import` takes it. */
export interface MixpanelEvent {
  event: string
  properties: Record<string, unknown>
}

/**
 * The name Mixpanel's own browser library gives a page view (`track_pageview`), so the plugin's page
 * views land in the same reports; an action's or custom event's own name otherwise.
 */
export const MIXPANEL_PAGE_VIEW = '$mp_web_page_view'

export function mixpanelEventName (event: Readonly<AnalyticsEvent>): string {
  switch (event.type) {
    case EventType.PageView: return MIXPANEL_PAGE_VIEW
    case EventType.Action: return truncateCodePoints(event.actionName !== '' ? event.actionName : event.eventName, MIXPANEL_MAX_STRING_LENGTH)
    default: return truncateCodePoints(event.eventName, MIXPANEL_MAX_STRING_LENGTH)
  }
}

/**
 * `$insert_id`: the event id itself when Mixpanel's rule allows it (≤ 36 of `[A-Za-z0-9-]`: a UUID
 * does), else the first 36 hex digits of its SHA-256, which Mixpanel's docs suggest for ids of
 * another shape. Either way the same on every retry, which is what makes a retried `/import` safe.
 */
export function mixpanelInsertId (id: string): string {
  return MIXPANEL_INSERT_ID.test(id) ? id : createHash('sha256').update(id).digest('hex').slice(0, 36)
}

/** A user id Mixpanel would take as a distinct id: not empty and not one of the placeholders it refuses. */
export function usableUserId (userId: string): string {
  if (userId === '' || MIXPANEL_INVALID_DISTINCT_IDS.has(userId.trim().toLowerCase())) return ''
  return truncateCodePoints(userId, MIXPANEL_MAX_STRING_LENGTH)
}

/**
 * Builds the `/import` event for one event, or returns why it cannot be sent. `nowMs` clamps a
 * clock that runs ahead: Mixpanel refuses events more than an hour in the future.
 */
export function mixpanelEvent (event: Readonly<AnalyticsEvent>, token: string, ipPolicy: IpPolicy, nowMs: number): MixpanelEvent | string {
  let time = event.timestamp.getTime()
  // Also false for an invalid Date (NaN).
  if (!(time >= MIXPANEL_MIN_TIME_MS)) return 'a timestamp before 1971, which Mixpanel refuses'
  if (time > nowMs + MIXPANEL_MAX_FUTURE_MS) time = nowMs
  const name = mixpanelEventName(event)
  if (name.trim() === '') return `a ${event.type} event without a name`
  const userId = usableUserId(event.userId)
  // Mixpanel's simplified identity: `$device_id` the anonymous id, `$user_id` once known, and
  // `distinct_id` the user id, else the visitor id. '' (no visitor, no user: a job's track()) is
  // accepted and kept out of user analyses, as Mixpanel documents.
  const properties: Record<string, unknown> = {
    time,
    distinct_id: userId !== '' ? userId : event.visitorId,
    $insert_id: mixpanelInsertId(event.id),
    token,
    mp_lib: LIBRARY_NAME,
    $lib_version: LIBRARY_VERSION
  }
  if (event.visitorId !== '') properties.$device_id = event.visitorId
  if (userId !== '') properties.$user_id = userId
  const ip = collectorIp(event, ipPolicy)
  // An IPv6 zone (`fe80::1%eth0`) is local to this host and means nothing to Mixpanel.
  if (ip !== '' && !ip.includes('%')) properties.ip = ip
  if (event.country !== '') properties.mp_country_code = event.country
  if (event.url !== '') properties.$current_url = event.url
  if (event.path !== '') properties.$pathname = event.path
  if (event.hostname !== '') properties.$host = event.hostname
  if (event.referrer !== '') {
    properties.$referrer = event.referrer
    const domain = referringDomain(event)
    if (domain !== '') properties.$referring_domain = domain
  }
  const client = event.client
  if (client.browser !== '') properties.$browser = client.browser
  if (client.browserVersion !== '') properties.$browser_version = client.browserVersion
  if (client.os !== '') properties.$os = client.os
  if (client.device !== '') properties.$device = client.device
  if (event.locale !== '') properties.locale = event.locale
  if (event.statusCode !== 0) properties.status_code = event.statusCode
  if (event.durationMs !== 0) properties.duration_ms = event.durationMs
  if (event.revenue !== undefined) {
    // A number in major units (Mixpanel sums numbers), with its currency beside it.
    properties.revenue = event.revenue.toNumber()
    properties.currency = event.revenue.currency
  }
  campaignProperties(properties, event.visit)
  copyProperties(properties, event.properties)
  return { event: name, properties }
}
