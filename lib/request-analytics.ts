import type { FastifyRequest } from 'fastify'
import { boundField, setProperty, type AnalyticsEventInput, type EventProperties, type PropertyValue } from './event.js'
import { Money } from './money.js'
import type { ConsentDecision } from './privacy/index.js'
import type { RequestState, Tracker } from './tracker.js'

/**
 * `request.analytics`: shapes this request's automatic event and tracks explicit ones.
 * Nothing here throws: bad input is dropped, counted in `stats().events` and logged.
 */
export interface RequestAnalyticsApi {
  /** Attaches revenue to this request's automatic event (last call wins). */
  setRevenue (revenue: Money): void
  /**
   * Adds a property to the automatic event, kept with its type (a string, a finite number or a boolean;
   * anything else is dropped and counted); beyond 64 distinct keys it is dropped (overwrites still work).
   */
  addProperty (key: string, value: PropertyValue): void
  /** Promotes this request's automatic event to a custom event with this name (no second event). */
  setEventName (name: string): void
  /** The user of this request, overriding the `userId` option and `request.user`. */
  setUserId (id: string | number): void
  /** No automatic event for this request. */
  skip (): void
  /** Tracks an explicit event now, enriched from this request. */
  track (event: AnalyticsEventInput): void
}

/**
 * One per request that uses `request.analytics`, made at its first use (most requests never touch
 * it, and pay nothing); a class so no closure is made per request.
 * Created `done` (detached) for a request the plugin's onRequest hook has not seen: an earlier
 * hook, or a scope outside the one the plugin is registered in. Then, as after the request's
 * event was built, what would shape that event is counted as `unattached` instead of vanishing.
 */
export class RequestAnalytics implements RequestAnalyticsApi, RequestState {
  eventName = ''
  revenue: Money | undefined = undefined
  properties: EventProperties | undefined = undefined
  userId = ''
  skipped = false
  done: boolean
  consent: ConsentDecision | '' | undefined = undefined
  readonly #tracker: Tracker
  readonly #request: FastifyRequest

  /** `attached`: the plugin's onRequest hook saw this request, so its automatic event is still to come. */
  constructor (tracker: Tracker, request: FastifyRequest, attached: boolean) {
    this.#tracker = tracker
    this.#request = request
    this.done = !attached
  }

  #late (what: string): boolean {
    if (!this.done) return false
    this.#tracker.unattached(`request.analytics.${what}`, this.#request)
    return true
  }

  setRevenue (revenue: Money): void {
    if (this.#late('setRevenue')) return
    if (!Money.isMoney(revenue)) {
      this.#tracker.invalid('setRevenue', 'revenue must be a Money (Money.fromMinor / Money.fromDecimal)', this.#request)
      return
    }
    this.revenue = revenue
  }

  addProperty (key: string, value: PropertyValue): void {
    if (this.#late('addProperty')) return
    this.properties ??= Object.create(null) as EventProperties
    if (!setProperty(this.properties, key, value, this.#tracker.cuts)) this.#tracker.propertiesDropped(1, this.#request)
  }

  setEventName (name: string): void {
    if (this.#late('setEventName')) return
    if (typeof name !== 'string' || name.length === 0) {
      this.#tracker.invalid('setEventName', 'the event name must be a non-empty string', this.#request)
      return
    }
    this.eventName = boundField('eventName', name, this.#tracker.cuts)
  }

  setUserId (id: string | number): void {
    if (this.#late('setUserId')) return
    if (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) this.userId = boundField('userId', String(id), this.#tracker.cuts)
    else this.#tracker.invalid('setUserId', 'the user id must be a string or a finite number', this.#request)
  }

  skip (): void {
    this.skipped = true
  }

  track (event: AnalyticsEventInput): void {
    this.#tracker.track(event, this.#request, this)
  }
}

/** What `request.analytics` is when the plugin has no collectors: every call does nothing. */
export const INERT_REQUEST_ANALYTICS: RequestAnalyticsApi = Object.freeze({
  setRevenue () {},
  addProperty () {},
  setEventName () {},
  setUserId () {},
  skip () {},
  track () {}
})
