import { AsyncLocalStorage } from 'node:async_hooks'
import type { FastifyRequest } from 'fastify'
import type { AnalyticsEventInput, PropertyValue } from './event.js'
import type { Money } from './money.js'
import type { RequestAnalyticsApi } from './request-analytics.js'

/** The key under which `onRequest` stores the request in the request context (its `analytics` is made on first use). */
export const CONTEXT_KEY = 'fastifyAnalytics'

/**
 * The current request's analytics when the app has not registered `@fastify/request-context`
 * itself. Registering that plugin on the app's behalf made the app's own later registration crash
 * the process (FST_ERR_DEC_ALREADY_PRESENT thrown where no try/catch reaches it), so the plugin
 * keeps its own store and decorates nothing in that case.
 */
export const analyticsStorage = new AsyncLocalStorage<FastifyRequest>()

/**
 * Each live registration (normally one): where a helper call that finds no request is counted, and
 * whose counters `memoryCollector().waitFor` reports when it times out.
 */
export interface UnattachedSink {
  unattached (what: string): void
  stats (): RegistrationStats
}

/** The part of `app.analytics.stats()` read through a registration. */
export interface RegistrationStats {
  events: { invalid: number, unattached: number, skipped: object }
  collectors: object
}
export const unattachedSinks = new Set<UnattachedSink>()

/** The app's @fastify/request-context store, once a registration found that plugin registered first. */
let appRequestContext: { getStore: () => unknown } | undefined

/**
 * Loaded only when the app registered @fastify/request-context (it is then in memory already): an
 * app without it does not pay for the import at start.
 */
export async function useAppRequestContext (): Promise<void> {
  appRequestContext ??= (await import('@fastify/request-context')).requestContext
}

function current (helper: string): RequestAnalyticsApi | undefined {
  const own = analyticsStorage.getStore()
  if (own !== undefined) return own.analytics
  // A store exists only inside a request that @fastify/request-context is tracking.
  const store = appRequestContext?.getStore() as Record<string, unknown> | undefined
  const request = store?.[CONTEXT_KEY] as FastifyRequest | undefined
  if (request !== undefined) return request.analytics
  for (const sink of unattachedSinks) sink.unattached(helper)
  return undefined
}

/**
 * Tracks an explicit event, enriched from the current request. Works anywhere in a request's
 * async call chain (services, repositories) without passing the request. Outside a request (or
 * with `requestContext: false`) the event is dropped and counted in `stats().events.unattached`:
 * for jobs, queue consumers and startup code use `app.analytics.track(event)`, which needs no request.
 */
export function trackAnalyticsEvent (event: AnalyticsEventInput): void {
  current('trackAnalyticsEvent')?.track(event)
}

/** Attaches revenue to the current request's automatic event; outside a request, counted as `unattached`. */
export function setAnalyticsRevenue (revenue: Money): void {
  current('setAnalyticsRevenue')?.setRevenue(revenue)
}

/** Adds a property (a string, a finite number or a boolean, kept with its type) to the current request's automatic event (64 at most); outside a request, counted as `unattached`. */
export function addAnalyticsProperty (key: string, value: PropertyValue): void {
  current('addAnalyticsProperty')?.addProperty(key, value)
}

/** Promotes the current request's automatic event to a named custom event; outside a request, counted as `unattached`. */
export function setAnalyticsEventName (name: string): void {
  current('setAnalyticsEventName')?.setEventName(name)
}
