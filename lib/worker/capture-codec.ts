import type { AnalyticsEvent, EventProperties, PropertyValue } from '../event.js'
import { NO_REQUEST_HEADERS } from '../event.js'
import { Money } from '../money.js'
import type { RequestFacts } from '../pipeline/facts.js'
import type { AutomaticCapture } from '../pipeline/index.js'
import type { ConsentDecision } from '../privacy/index.js'
import { decodeEvent, encodeEvent, type WireEvent, type WireValue } from './codec.js'

// What crosses to the worker when the pipeline runs there: a request's capture (or a tracked event
// with its request's facts) as one flat array of primitives, in a fixed order. Structured clone
// copies a flat array of strings far cheaper than an object tree (a key per field, a map per object).

/** An entry's first value: what it holds. */
export const AUTOMATIC = 0
export const TRACKED = 1

const FACT_FIELDS = [
  'method', 'url', 'protocol', 'host', 'ip', 'userAgent', 'referrer', 'acceptLanguage', 'purpose', 'gpc',
  'mobileHint', 'platformHint', 'countryHeader', 'userId', 'locale'
] as const satisfies ReadonlyArray<keyof RequestFacts>

// A field added to the facts must cross too, or the build fails.
const everyFactCarried: [Exclude<keyof RequestFacts, typeof FACT_FIELDS[number] | 'headers'>] extends [never] ? true : never = true
void everyFactCarried

const CAPTURE_FIELDS = ['type', 'startMs', 'durationMs', 'statusCode', 'pattern', 'actionName', 'eventName', 'userId', 'consent'] as const satisfies ReadonlyArray<keyof AutomaticCapture>
const everyCaptureFieldCarried: [Exclude<keyof AutomaticCapture, typeof CAPTURE_FIELDS[number] | 'facts' | 'revenue' | 'properties'>] extends [never] ? true : never = true
void everyCaptureFieldCarried

function pushFacts (wire: WireValue[], facts: RequestFacts): void {
  for (let i = 0; i < FACT_FIELDS.length; i++) wire.push(facts[FACT_FIELDS[i]])
  pushPairs(wire, facts.headers)
}

/**
 * A count, then name, value pairs; -1 for none at all. Values cross as they are: structured clone
 * keeps a property's number or boolean a number or a boolean.
 */
function pushPairs (wire: WireValue[], pairs: Readonly<Record<string, string | number | boolean>> | undefined): void {
  if (pairs === undefined) {
    wire.push(-1)
    return
  }
  const countAt = wire.length
  wire.push(0)
  let count = 0
  for (const key in pairs) {
    wire.push(key, pairs[key])
    count++
  }
  wire[countAt] = count
}

/** Reads from a flat array, in the order it was written. */
class WireReader {
  at: number
  readonly #wire: readonly WireValue[]

  constructor (wire: readonly WireValue[], at: number) {
    this.#wire = wire
    this.at = at
  }

  next (): WireValue {
    return this.#wire[this.at++]
  }

  /** Pairs into a null-prototype object (a `__proto__` key stays data); undefined when written as none. */
  pairs<V extends WireValue = string> (): Record<string, V> | undefined {
    const count = this.next() as number
    if (count < 0) return undefined
    const result = Object.create(null) as Record<string, V>
    for (let i = 0; i < count; i++) {
      const key = this.next() as string
      result[key] = this.next() as V
    }
    return result
  }

  facts (): RequestFacts {
    const facts = {} as Record<string, unknown>
    for (let i = 0; i < FACT_FIELDS.length; i++) facts[FACT_FIELDS[i]] = this.next()
    const headers = this.pairs()
    facts.headers = headers === undefined || Object.keys(headers).length === 0 ? NO_REQUEST_HEADERS : headers
    return facts as unknown as RequestFacts
  }
}

/** A request's automatic-event capture as it crosses to the worker. */
export function encodeCapture (capture: AutomaticCapture): WireValue[] {
  const wire: WireValue[] = [AUTOMATIC]
  for (let i = 0; i < CAPTURE_FIELDS.length; i++) wire.push(capture[CAPTURE_FIELDS[i]])
  const revenue = capture.revenue
  wire.push(revenue === undefined ? null : revenue.minor, revenue === undefined ? null : revenue.currency)
  pushPairs(wire, capture.properties)
  pushFacts(wire, capture.facts)
  return wire
}

export function decodeCapture (wire: readonly WireValue[]): AutomaticCapture {
  const reader = new WireReader(wire, 1)
  const capture = {} as Record<string, unknown>
  for (let i = 0; i < CAPTURE_FIELDS.length; i++) capture[CAPTURE_FIELDS[i]] = reader.next()
  const minor = reader.next()
  const currency = reader.next()
  // From minor units: a Money made from a bigint can have more digits than fromDecimal accepts.
  capture.revenue = minor === null ? undefined : Money.fromMinor(minor as bigint, currency as string)
  capture.properties = reader.pairs<PropertyValue>() as EventProperties | undefined
  capture.facts = reader.facts()
  return capture as unknown as AutomaticCapture
}

/** An event `track()` built, with its request's facts and consent, as it crosses to the worker. */
export function encodeTracked (event: Readonly<AnalyticsEvent>, facts: RequestFacts | undefined, consent: ConsentDecision | ''): WireValue[] {
  const wire: WireValue[] = [TRACKED, consent, facts === undefined ? 0 : 1]
  if (facts !== undefined) pushFacts(wire, facts)
  // The event's own wire form last: its properties run to the end.
  const eventWire = encodeEvent(event)
  for (let i = 0; i < eventWire.length; i++) wire.push(eventWire[i])
  return wire
}

export interface TrackedEntry {
  event: AnalyticsEvent
  facts: RequestFacts | undefined
  consent: ConsentDecision | ''
}

export function decodeTracked (wire: readonly WireValue[]): TrackedEntry {
  const reader = new WireReader(wire, 1)
  const consent = reader.next() as ConsentDecision | ''
  const facts = reader.next() === 1 ? reader.facts() : undefined
  const event = decodeEvent(wire.slice(reader.at) as WireEvent)
  return { event, facts, consent }
}
