import { eventToJSON, type AnalyticsEvent } from './event.js'
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
    const snapshot = eventToJSON(event)
    snapshot.clientIP = collectorIp(event, policy)
    json = serialize(snapshot)
    strings[policy] = json
  }
  return json
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
