import { eventToJSON, type AnalyticsEvent, type AnalyticsEventJSON } from '../event.js'
import { Money } from '../money.js'

/**
 * One event as it crosses to the worker: its JSON form (eventToJSON, the one place that lists the
 * fields, so fields added there travel without a change here) and the request's `_ga` cookies, the
 * only part of the request a built-in collector reads (GA4's client and session ids).
 */
export type WireEvent = [json: AnalyticsEventJSON, cookie: string | undefined]

/** What the worker's collectors receive in place of the request: only the headers they read. */
export interface WireRequest { headers: { cookie?: string } }

/** Encodes an event on the request thread, while its request is still valid. May throw (an invalid Date). */
export function encodeEvent (event: Readonly<AnalyticsEvent>): WireEvent {
  const cookie = event.request?.headers.cookie
  // Only a header that can hold `_ga` cookies crosses: session cookies of the app stay on its thread.
  return [eventToJSON(event), typeof cookie === 'string' && cookie.includes('_ga') ? cookie : undefined]
}

/** Rebuilds an event-like object in the worker: the JSON form with its Date, Money and properties restored. */
export function decodeEvent (wire: WireEvent): AnalyticsEvent {
  const [json, cookie] = wire
  const properties = Object.create(null) as Record<string, string>
  // Object.keys and plain assignment on a null-prototype object: a `__proto__` key stays data.
  for (const key of Object.keys(json.properties)) properties[key] = json.properties[key]
  // From minor units, not Money.fromDecimal: a Money made from a bigint can have more digits than an
  // amount an app may type (fromDecimal's bound), and toDecimalString always writes every decimal place.
  const revenue = json.revenue === null ? undefined : Money.fromMinor(BigInt(json.revenue.amount.replace('.', '')), json.revenue.currency)
  const request = cookie === undefined ? undefined : { headers: { cookie } } satisfies WireRequest
  return { ...json, timestamp: new Date(json.timestamp), properties, revenue, request } as unknown as AnalyticsEvent
}
