import { eventToJSON, type AnalyticsEvent } from './event.js'
import { collectorIp, type IpPolicy } from './privacy/index.js'

/** An event's JSON string per IP policy, made on first use. */
interface EncodedEvent {
  full: string | undefined
  truncate: string | undefined
  none: string | undefined
}

// Keyed weakly by the event: the strings go when the event does, and the event keeps its one shape
// (a slot on it would be a second hidden class for every event, and visible to spreads).
const encoded = new WeakMap<Readonly<AnalyticsEvent>, EncodedEvent>()

/**
 * The event's JSON form (`eventToJSON`, `clientIP` after `policy`) as a string, serialised once per
 * event and policy: stdout and webhook with the same `ip` option share it. The fan-out hands every
 * collector the same event object, and collectors get it read-only, so a string made for the first
 * stays true for the others.
 */
export function eventJSONString (event: Readonly<AnalyticsEvent>, policy: IpPolicy): string {
  let memo = encoded.get(event)
  if (memo === undefined) {
    memo = { full: undefined, truncate: undefined, none: undefined }
    encoded.set(event, memo)
  }
  let json = memo[policy]
  if (json === undefined) {
    const snapshot = eventToJSON(event)
    snapshot.clientIP = collectorIp(event, policy)
    json = JSON.stringify(snapshot)
    memo[policy] = json
  }
  return json
}
