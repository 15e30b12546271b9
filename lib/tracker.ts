import type { FastifyReply, FastifyRequest } from 'fastify'
import type { CollectorStats } from './collector.js'
import { Dispatcher } from './dispatcher.js'
import { enrichFromRequest, type EnrichOptions } from './enrich.js'
import { createEvent, EventType, normalizeEventInput, type AnalyticsEvent, type EventProperties } from './event.js'
import { RateLimitedLog, type Logger } from './log.js'
import type { Money } from './money.js'
import { DEFAULT_ROUTE, routeDescriptor, type NormalizedOptions, type RouteDescriptor } from './options.js'

/** Event-level counters: what never reached a collector. */
export interface EventCounters {
  /** Events handed to the collectors (automatic and tracked). */
  emitted: number
  /** Events refused before fan-out (bad input to `track`, `setRevenue`, …). */
  invalid: number
  /** Properties dropped: a value that is not a string/number/boolean, or a key beyond the 64 cap. */
  propertiesDropped: number
  /**
   * Calls that found no request event to act on, so did nothing: a module helper outside a request
   * (or with `requestContext: false`), or a `request.analytics` call that shapes the automatic event
   * made before the plugin's onRequest hook, outside its scope, or after the event was built.
   */
  unattached: number
}

/** `app.analytics.stats()`. */
export interface AnalyticsStats {
  events: EventCounters
  collectors: Record<string, CollectorStats>
}

/** What the request decorator hands over when the request ends. */
export interface RequestState {
  eventName: string
  revenue: Money | undefined
  properties: EventProperties | undefined
  userId: string
  skipped: boolean
  /** The automatic event was emitted (or abandoned): at most one per request. */
  done: boolean
}

/** A route's resolved analytics config and its pattern, computed on its first request. */
interface RouteInfo {
  descriptor: RouteDescriptor
  pattern: string
}

/** nginx's code for a client that closed the request before the response. */
export const CLIENT_CLOSED_REQUEST = 499

/**
 * The plugin's runtime: builds events from requests, counts what is refused, and hands the
 * rest to the dispatcher. One per plugin registration.
 */
export class Tracker {
  readonly dispatcher: Dispatcher
  readonly counters: EventCounters = { emitted: 0, invalid: 0, propertiesDropped: 0, unattached: 0 }
  readonly #options: NormalizedOptions
  readonly #enrich: EnrichOptions
  readonly #log: RateLimitedLog
  // Keyed by the route's config object, which Fastify keeps for the life of the route.
  readonly #routes = new WeakMap<object, RouteInfo>()
  /** `logLevel` / `logSerializers` given at registration, for the per-request child loggers. */
  readonly #childOptions: { level?: string, serializers?: Record<string, (value: unknown) => unknown> } | undefined
  #unattachedLogged = false

  constructor (options: NormalizedOptions, log: Logger) {
    this.#options = options
    this.#childOptions = childLoggerOptions(options)
    const child = log.child({ plugin: 'analytics' }, this.#childOptions) as Logger
    this.#log = new RateLimitedLog(child)
    this.dispatcher = new Dispatcher(options.collectors, this.#childOptions === undefined ? log : log.child({}, this.#childOptions) as Logger)
    this.#enrich = {
      locale: options.locale,
      userId: options.userId,
      onCallbackError: (option, error, request) => this.#log.error(`option:${option}`, { err: error }, `analytics ${option}() option threw; the field is left empty`, this.#requestLog(request))
    }
  }

  /** A line about one request goes through `request.log`, so it carries the `reqId`; made only when written. */
  #requestLog (request: FastifyRequest | undefined): (() => Logger) | undefined {
    if (request === undefined) return undefined
    return () => request.log.child({ plugin: 'analytics' }, this.#childOptions) as Logger
  }

  get enrichOptions (): EnrichOptions { return this.#enrich }

  /** Counts and logs (rate-limited) an input the app gave that cannot be used. Never throws. */
  invalid (what: string, reason: string, request?: FastifyRequest): void {
    this.counters.invalid++
    this.#log.warn(`invalid:${what}`, { reason }, `analytics ${what} ignored: ${reason}`, this.#requestLog(request))
  }

  propertiesDropped (count: number, request?: FastifyRequest): void {
    if (count === 0) return
    this.counters.propertiesDropped += count
    this.#log.warn('properties', { dropped: count }, 'analytics properties dropped (not a string/number/boolean, or beyond 64 per event)', this.#requestLog(request))
  }

  /** Counts a call that found no request event to act on; the first one is logged with the likely causes. */
  unattached (what: string, request?: FastifyRequest): void {
    this.counters.unattached++
    if (this.#unattachedLogged) return
    this.#unattachedLogged = true
    const log = this.#requestLog(request)?.() ?? this.#log.log
    log.warn({ call: what }, `analytics ${what}() found no request event to act on and did nothing: it ran outside a request ` +
      '(or with requestContext: false), before the plugin\'s onRequest hook, in a scope the plugin is not registered in ' +
      '(register it at the root or wrap the file in fastify-plugin), or after the event was built. ' +
      'Counted in stats().events.unattached; logged once')
  }

  emit (event: AnalyticsEvent): void {
    this.counters.emitted++
    this.dispatcher.dispatch(event)
  }

  /** `track()` from application code; `request` enriches it when there is one. */
  track (input: unknown, request: FastifyRequest | undefined): void {
    const normalized = normalizeEventInput(input, new Date())
    if (typeof normalized === 'string') {
      this.invalid('event', normalized, request)
      return
    }
    this.propertiesDropped(normalized.droppedProperties, request)
    if (request !== undefined) enrichFromRequest(normalized.event, request, request.routeOptions.url ?? '', this.#enrich)
    this.emit(normalized.event)
  }

  /** One `routeOptions` read (a getter that allocates) per request, then a cached lookup. */
  #route (request: FastifyRequest): RouteInfo {
    const routeOptions = request.routeOptions
    const config = routeOptions.config as { analytics?: unknown } | undefined
    if (config === undefined || config === null) return { descriptor: DEFAULT_ROUTE, pattern: routeOptions.url ?? '' }
    let route = this.#routes.get(config)
    if (route === undefined) {
      // Fastify builds one config object per route, so the pattern can live beside the descriptor.
      const pattern = routeOptions.url ?? ''
      let descriptor: RouteDescriptor
      try {
        descriptor = routeDescriptor(config.analytics, pattern)
      } catch (error) {
        // Routes registered before the plugin were not checked at registration: use the default, once.
        this.invalid('route config', (error as Error).message, request)
        descriptor = DEFAULT_ROUTE
      }
      route = { descriptor, pattern }
      this.#routes.set(config, route)
    }
    return route
  }

  #classify (request: FastifyRequest, reply: FastifyReply, descriptor: RouteDescriptor): EventType | null {
    const options = this.#options
    if (options.classify !== undefined) {
      try {
        const chosen = options.classify(request, reply)
        if (chosen !== undefined) return chosen === EventType.PageView || chosen === EventType.Action ? chosen : null
      } catch (error) {
        this.#log.error('option:classify', { err: error }, 'analytics classify() option threw; using the default classification', this.#requestLog(request))
      }
    }
    if (descriptor.disabled) return null
    const type = descriptor.type ?? byMethod(request.method)
    if (type === EventType.PageView) return options.pageViews ? type : null
    if (type === EventType.Action) return options.actions ? type : null
    return null
  }

  /**
   * Builds the one automatic event of a finished or `abandoned` request.
   * `state` is null when an earlier onRequest hook replied before ours ran.
   */
  automatic (request: FastifyRequest, reply: FastifyReply, state: RequestState | null, abandoned = false): void {
    if (state !== null) {
      if (state.done || state.skipped) return
      state.done = true
    }
    const options = this.#options
    if (options.ignore !== undefined) {
      try {
        if (options.ignore(request) === true) return
      } catch (error) {
        this.#log.error('option:ignore', { err: error }, 'analytics ignore() option threw; the request is tracked', this.#requestLog(request))
      }
    }
    const { descriptor, pattern } = this.#route(request)
    const promoted = state !== null && state.eventName !== ''
    const type = promoted ? EventType.Custom : this.#classify(request, reply, descriptor)
    if (type === null) return
    // Fastify starts the reply's clock when the request starts, so elapsedTime holds for an abandoned one too.
    const durationMs = reply.elapsedTime
    // The request's properties become the event's (no copy, no empty object made to be replaced).
    const event = createEvent(type, new Date(Date.now() - durationMs), state?.properties)
    event.durationMs = durationMs
    event.statusCode = abandoned ? CLIENT_CLOSED_REQUEST : reply.statusCode
    if (promoted) event.eventName = state.eventName
    if (type === EventType.Action) event.actionName = descriptor.actionName !== '' ? descriptor.actionName : `${request.method} ${pattern}`
    if (state !== null) {
      // The event owns them now: a late addProperty must not change what collectors saw.
      state.properties = undefined
      event.revenue = state.revenue
      event.userId = state.userId
    }
    enrichFromRequest(event, request, pattern, this.#enrich)
    this.emit(event)
  }

  stats (): AnalyticsStats {
    return { events: { ...this.counters }, collectors: this.dispatcher.stats() }
  }
}

function childLoggerOptions (options: NormalizedOptions): { level?: string, serializers?: Record<string, (value: unknown) => unknown> } | undefined {
  if (options.logLevel === undefined && options.logSerializers === undefined) return undefined
  const childOptions: { level?: string, serializers?: Record<string, (value: unknown) => unknown> } = {}
  if (options.logLevel !== undefined) childOptions.level = options.logLevel
  if (options.logSerializers !== undefined) childOptions.serializers = options.logSerializers
  return childOptions
}

function byMethod (method: string): EventType | null {
  switch (method) {
    case 'GET': return EventType.PageView
    case 'POST':
    case 'PUT':
    case 'PATCH':
    case 'DELETE': return EventType.Action
    default: return null
  }
}
