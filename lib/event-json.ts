import { visitToJSON, type AnalyticsEvent, type AnalyticsEventJSON, type Visit, type VisitJSON } from './event.js'
import { collectorIp, type IpPolicy } from './privacy/index.js'

// JSON.stringify, not fast-json-stringify compiled from the shipped schema: the compiled serialiser
// took about 20 % less CPU per call (bench/encoding.js), but it builds its output by concatenation, a
// rope of hundreds of pieces that every later reader flattens. The webhook queues these strings and
// joins them into bodies: end to end (bench/delivery.js, webhook alone, same run) it delivered 27 000-
// 33 000 events/s at 29-36 µs of CPU per event against 53 000-65 000 at 14-18 µs with JSON.stringify,
// whose output is one flat string.
const serialize = JSON.stringify

// The strings of the event being fanned out. The fan-out hands each event to every collector in turn,
// synchronously (the delivery worker likewise), so one slot catches every reuse; it is keyed by the
// event's identity, never by its content, so a copy (`{ ...event, userId: '' }` in a wrapping
// collector) is encoded afresh. Not a WeakMap: an entry outlives its event until a full collection,
// and keeping 1–3 KB of strings per event that long made encoding 3× slower (bench/encoding.js).
let current: Readonly<AnalyticsEvent> | undefined
const strings: Record<IpPolicy, string | undefined> = { full: undefined, truncate: undefined, none: undefined }

/**
 * The event's JSON form (`eventToJSON`, `clientIP` after `policy`) as a string, serialised once per
 * event and policy: stdout and webhook with the same `ip` option share it. Collectors get the event
 * read-only, so a string made for the first collector stays true for the others.
 */
export function eventJSONString (event: Readonly<AnalyticsEvent>, policy: IpPolicy): string {
  if (event !== current) forgetEventJSON(event)
  let json = strings[policy]
  if (json === undefined) {
    json = serialize(snapshot(event, collectorIp(event, policy)))
    strings[policy] = json
  }
  return json
}

/**
 * `eventToJSON(event)` with `clientIP` given, made to be serialised at once: the same keys in the
 * same order and the same values (test/collectors/event-json.test.ts compares the bytes), for less
 * CPU. Date#toISOString cost about 0.5 µs, and an event had two: the timestamp is formatted from a
 * memo of its second, and a visit's JSON form (its start included) is made once per visit.
 * `properties` and `client` are serialised from the event's own objects rather than from copies.
 */
function snapshot (event: Readonly<AnalyticsEvent>, clientIP: string): AnalyticsEventJSON {
  return {
    id: event.id,
    type: event.type,
    eventName: event.eventName,
    actionName: event.actionName,
    timestamp: isoString(event.timestamp),
    clientIP,
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
    properties: event.properties,
    revenue: event.revenue === undefined ? null : event.revenue.toJSON(),
    client: event.client,
    consent: event.consent,
    visitorId: event.visitorId,
    visit: event.visit === null ? null : visitJSON(event.visit),
    country: event.country
  }
}

// The JSON form of the visits seen, by identity. Only frozen visits (the visit stores' own: one
// object for every event of a visit) are kept, so a visit changed after it was serialised can
// never be served stale; the entries go with their visits.
const visits = new WeakMap<Readonly<Visit>, VisitJSON>()

function visitJSON (visit: Readonly<Visit>): VisitJSON {
  let json = visits.get(visit)
  if (json === undefined) {
    json = visitToJSON(visit)
    if (Object.isFrozen(visit)) visits.set(visit, json)
  }
  return json
}

// Date#toISOString's text for the last second formatted, up to its milliseconds: events arrive in
// time order, so most share the second of the one before.
let isoSecond = Number.NaN
let isoPrefix = ''
const MILLISECONDS = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, '0'))

/** `date.toISOString()` (which it calls, and so throws for an invalid date, whenever the second changes). */
export function isoString (date: Date): string {
  const ms = date.getTime()
  const second = Math.floor(ms / 1000)
  if (second !== isoSecond) {
    const iso = date.toISOString()
    isoSecond = second
    // `YYYY-MM-DDTHH:mm:ss.` (or `±YYYYYY-…` beyond year 9999): everything before `sssZ`.
    isoPrefix = iso.slice(0, -4)
    return iso
  }
  return isoPrefix + MILLISECONDS[ms - second * 1000] + 'Z'
}

/**
 * Drops the strings kept for the last event (the fan-out calls it once every collector has had the
 * event): nothing of an event stays here after its fan-out, and an event published again after a
 * change is encoded again.
 */
export function forgetEventJSON (next?: Readonly<AnalyticsEvent>): void {
  current = next
  strings.full = undefined
  strings.truncate = undefined
  strings.none = undefined
}
