import fastJson, { type ObjectSchema, type StringSchema } from 'fast-json-stringify'
import { eventToJSON, type AnalyticsEvent, type AnalyticsEventJSON } from './event.js'
import { collectorIp, type IpPolicy } from './privacy/index.js'

const STRING: StringSchema = { type: 'string' }

/**
 * The event of schema/webhook-body.schema.json, as a serialiser needs it: the same properties in the
 * same order (a test holds the two together), without the constraints it does not check, and with
 * revenue's `oneOf` of null or an object written `nullable` (fast-json-stringify resolves a `oneOf` by
 * validating the value on every call).
 */
export const EVENT_JSON_SCHEMA: ObjectSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'id', 'type', 'eventName', 'actionName', 'timestamp', 'clientIP', 'locale', 'hostname', 'userId',
    'matchedPattern', 'url', 'path', 'method', 'userAgent', 'referrer', 'durationMs', 'statusCode',
    'properties', 'revenue', 'client', 'consent'
  ],
  properties: {
    id: STRING,
    type: STRING,
    eventName: STRING,
    actionName: STRING,
    timestamp: STRING,
    clientIP: STRING,
    locale: STRING,
    hostname: STRING,
    userId: STRING,
    matchedPattern: STRING,
    url: STRING,
    path: STRING,
    method: STRING,
    userAgent: STRING,
    referrer: STRING,
    durationMs: { type: 'number' },
    statusCode: { type: 'integer' },
    properties: { type: 'object', additionalProperties: STRING },
    revenue: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['amount', 'currency'],
      properties: { amount: STRING, currency: STRING }
    },
    client: {
      type: 'object',
      additionalProperties: false,
      required: ['browser', 'browserVersion', 'os', 'osVersion', 'device', 'bot'],
      properties: { browser: STRING, browserVersion: STRING, os: STRING, osVersion: STRING, device: STRING, bot: { type: 'boolean' } }
    },
    consent: STRING
  }
}

// Compiled from the schema rather than JSON.stringify: on Node 20 (V8 11, before JSON.stringify's
// fast path) it encodes a bench page view in about 20 % less CPU time (bench/encoding.js).
// The same bytes: test/collectors/encoding.test.ts compares stdout lines with pino's JSON.stringify.
const serialize: (json: AnalyticsEventJSON) => string = fastJson(EVENT_JSON_SCHEMA)

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
