// Property values as JSON values of their own type, for the destinations that take typed JSON
// (Mixpanel, PostHog, Segment, Umami), and the fields those destinations' browser libraries share.
import type { AnalyticsEvent, Visit } from '../event.js'

/** A property value as a destination that takes typed JSON receives it. */
export type JsonScalar = string | number | boolean

/**
 * `value` as a JSON scalar of its own type, or undefined for what JSON cannot carry (NaN, ±Infinity,
 * objects). The plugin only lets strings, finite numbers and booleans into properties; the guard
 * holds for events a custom pipeline hands a collector directly.
 */
export function jsonScalar (value: unknown): JsonScalar | undefined {
  switch (typeof value) {
    case 'string': return value
    case 'number': return Number.isFinite(value) ? value : undefined
    case 'boolean': return value
    default: return undefined
  }
}

/**
 * Copies the event's properties into `target` as JSON values, keeping any key `target` already has
 * (the collector's own fields win: a property named `distinct_id` must not re-identify an event).
 */
export function copyProperties (target: Record<string, unknown>, properties: Readonly<Record<string, unknown>>): void {
  for (const key in properties) {
    // Own keys only: `constructor` or `toString` are properties like any other, not the target's inherited members.
    if (Object.hasOwn(target, key)) continue
    const value = jsonScalar(properties[key])
    if (value === undefined) continue
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
