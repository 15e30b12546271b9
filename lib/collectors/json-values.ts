import type { AnalyticsEvent, Visit } from '../event.js'

/** A property value as the JSON-typed destinations (Mixpanel, PostHog) take it. */
export type JsonPropertyValue = string | number | boolean

/**
 * A property value sent as the JSON value of its own type: a string stays a string, a finite number
 * a number, a boolean a boolean. Written against `unknown` so it holds whether the event's property
 * values are strings (today) or typed values (`string | number | boolean`): anything else, or a
 * non-finite number, goes as its string.
 */
export function jsonPropertyValue (value: unknown): JsonPropertyValue {
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number' && Number.isFinite(value)) return value
  return String(value)
}

/**
 * Copies the event's properties into `target` as JSON values, keeping any key `target` already has
 * (the collector's own fields win: a property named `distinct_id` must not re-identify an event).
 */
export function copyProperties (target: Record<string, unknown>, properties: Readonly<Record<string, unknown>>): void {
  for (const key in properties) {
    // Own keys only: `constructor` or `toString` are properties like any other, not the target's inherited members.
    if (Object.hasOwn(target, key)) continue
    const value = jsonPropertyValue(properties[key])
    // `target.__proto__ = 'x'` would be ignored (a primitive is no prototype): define it as data.
    if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
    else target[key] = value
  }
}

/**
 * The campaign of the event's visit as `utm_*` properties, the names both Mixpanel's and PostHog's
 * browser libraries give them; nothing for a Direct visit or an event without a visit. A visit from
 * a search engine or another site has no UTM tags: its source (`Google`, `news.example`) and medium
 * (`organic`, `referral`) go the same way, so reports break traffic down by one pair of properties.
 */
export function campaignProperties (target: Record<string, unknown>, visit: Readonly<Visit> | null): void {
  if (visit === null || (visit.channel === 'Direct' && visit.source === '(direct)')) return
  if (visit.source !== '') target.utm_source = visit.source
  if (visit.medium !== '') target.utm_medium = visit.medium
  if (visit.campaign !== '') target.utm_campaign = visit.campaign
  if (visit.term !== '') target.utm_term = visit.term
  if (visit.content !== '') target.utm_content = visit.content
}

// The host of an absolute http(s) URL, without user info or port.
const URL_HOST = /^https?:\/\/(?:[^/?#@]*@)?(\[[^\]/?#]*\]|[^/?#:]*)/i

/** The referrer's host (`www.google.com`), or '' when it has none. */
export function referringDomain (event: Readonly<AnalyticsEvent>): string {
  const match = URL_HOST.exec(event.referrer)
  return match === null ? '' : match[1].toLowerCase()
}
