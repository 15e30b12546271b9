import { requestContext } from '@fastify/request-context'
import type { AnalyticsEventInput, PropertyValue } from './event.js'
import type { Money } from './money.js'
import type { RequestAnalyticsApi } from './request-analytics.js'

/** The key under which `onRequest` stores `request.analytics` in the request context. */
export const CONTEXT_KEY = 'fastifyAnalytics'

function current (): RequestAnalyticsApi | undefined {
  // A store exists only inside a request that @fastify/request-context is tracking.
  const store = requestContext.getStore() as Record<string, unknown> | undefined
  return store?.[CONTEXT_KEY] as RequestAnalyticsApi | undefined
}

/**
 * Tracks an explicit event, enriched from the current request. Works anywhere in a request's
 * async call chain (services, repositories) without passing the request; a no-op outside one.
 */
export function trackAnalyticsEvent (event: AnalyticsEventInput): void {
  current()?.track(event)
}

/** Attaches revenue to the current request's automatic event; a no-op outside a request. */
export function setAnalyticsRevenue (revenue: Money): void {
  current()?.setRevenue(revenue)
}

/** Adds a property to the current request's automatic event (64 at most); a no-op outside a request. */
export function addAnalyticsProperty (key: string, value: PropertyValue): void {
  current()?.addProperty(key, value)
}

/** Promotes the current request's automatic event to a named custom event; a no-op outside a request. */
export function setAnalyticsEventName (name: string): void {
  current()?.setEventName(name)
}
