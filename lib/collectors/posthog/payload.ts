import { EventType, type AnalyticsEvent } from '../../event.js'
import { collectorIp, type IpPolicy } from '../../privacy/index.js'
import { campaignProperties, copyProperties, referringDomain } from '../json-values.js'
import { LIBRARY_NAME, LIBRARY_VERSION } from '../library.js'
import { truncateUtf8 } from '../text.js'
import { POSTHOG_MAX_DISTINCT_ID_LENGTH } from './limits.js'

/** One event in a `/batch/` body. */
export interface PosthogEvent {
  event: string
  distinct_id: string
  properties: Record<string, unknown>
  timestamp: string
  uuid: string
}

/** The name PostHog's own libraries give a page view, which its web analytics and trends count. */
export const POSTHOG_PAGE_VIEW = '$pageview'

export function posthogEventName (event: Readonly<AnalyticsEvent>): string {
  switch (event.type) {
    case EventType.PageView: return POSTHOG_PAGE_VIEW
    case EventType.Action: return event.actionName !== '' ? event.actionName : event.eventName
    default: return event.eventName
  }
}

/**
 * Builds the `/batch/` event for one event, or returns why it cannot be sent. PostHog refuses a
 * batch whose events lack a `distinct_id`: the user id, else the visitor id, else (a job's
 * `track()` with neither) the event's own id, which with person processing off makes no person.
 */
export function posthogEvent (event: Readonly<AnalyticsEvent>, ipPolicy: IpPolicy): PosthogEvent | string {
  const name = posthogEventName(event)
  if (name.trim() === '') return `a ${event.type} event without a name`
  const time = event.timestamp.getTime()
  if (!Number.isFinite(time)) return 'an invalid timestamp'
  const userId = event.userId
  // Cut in UTF-8 bytes on a code-point boundary: within 200 whether the capture service counts bytes or characters.
  const distinctId = truncateUtf8(userId !== '' ? userId : event.visitorId !== '' ? event.visitorId : event.id, POSTHOG_MAX_DISTINCT_ID_LENGTH)
  const properties: Record<string, unknown> = {
    $lib: LIBRARY_NAME,
    $lib_version: LIBRARY_VERSION,
    // Anonymous events make no person profile (cheaper, and nothing to merge later): only an event
    // with a user id creates or updates one.
    $process_person_profile: userId !== '',
    // As PostHog's server SDKs mark their events: sent by a server, not a browser.
    $is_server: true
  }
  const ip = collectorIp(event, ipPolicy)
  if (ip !== '' && !ip.includes('%')) {
    properties.$ip = ip
    properties.$geoip_disable = false
  } else {
    // Without `$ip` PostHog would take the sending server's address for the visitor's.
    properties.$geoip_disable = true
  }
  if (event.url !== '') properties.$current_url = event.url
  if (event.path !== '') properties.$pathname = event.path
  if (event.hostname !== '') properties.$host = event.hostname
  if (event.referrer !== '') {
    properties.$referrer = event.referrer
    const domain = referringDomain(event)
    if (domain !== '') properties.$referring_domain = domain
  }
  if (event.visit !== null) properties.$session_id = event.visit.id
  if (event.visitorId !== '') properties.$device_id = event.visitorId
  const client = event.client
  if (client.browser !== '') properties.$browser = client.browser
  if (client.browserVersion !== '') properties.$browser_version = client.browserVersion
  if (client.os !== '') properties.$os = client.os
  if (client.osVersion !== '') properties.$os_version = client.osVersion
  if (client.device !== '') properties.$device_type = client.device
  if (event.userAgent !== '') properties.$raw_user_agent = event.userAgent
  if (event.locale !== '') properties.$locale = event.locale
  if (event.country !== '') properties.country = event.country
  if (event.statusCode !== 0) properties.status_code = event.statusCode
  if (event.durationMs !== 0) properties.duration_ms = event.durationMs
  if (event.revenue !== undefined) {
    properties.revenue = event.revenue.toNumber()
    properties.currency = event.revenue.currency
  }
  campaignProperties(properties, event.visit)
  copyProperties(properties, event.properties)
  return { event: name, distinct_id: distinctId, properties, timestamp: event.timestamp.toISOString(), uuid: event.id }
}
