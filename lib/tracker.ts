import type { FastifyReply, FastifyRequest } from 'fastify'
import { ClientClassifier } from './client.js'
import type { CollectorStats } from './collector.js'
import { FanOut } from './fan-out.js'
import { enrichFromRequest, header, type EnrichOptions } from './enrich.js'
import { boundField, createEvent, EventType, normalizeEventInput, roundDuration, type AnalyticsEvent, type EventProperties, type TextCuts } from './event.js'
import { RateLimitedLog, type Logger } from './log.js'
import type { Money } from './money.js'
import { DEFAULT_ROUTE, routeDescriptor, type NormalizedOptions, type RouteDescriptor } from './options.js'
import { applyIpPolicy, hasGpc, UrlCleaner, type ConsentDecision, type EventConsent } from './privacy/index.js'
import { isReferrerSpam } from './attribution/index.js'
import { CountryResolver, Visitors, VISITS_OFF, type VisitStats } from './visits/index.js'

/** Automatic events not emitted, by reason: skipping is not loss, but it is never silent. */
export interface SkippedCounters {
  notPage: number
  bot: number
  prefetch: number
  ignored: number
  noRoute: number
  consent: number
  beforeSend: number
  spam: number
}

/** Event-level counters: what never reached a collector. */
export interface EventCounters {
  /** Events handed to the collectors (automatic and tracked). */
  emitted: number
  /** Events refused before fan-out (bad input to `track`, `setRevenue`, …). */
  invalid: number
  /** Properties dropped: a value that is not a string/number/boolean, or a key beyond the 64 cap. */
  propertiesDropped: number
  /** String fields, property keys and property values cut to their cap (one per cut; see docs/guarantees.md). */
  truncated: number
  /**
   * Requests that gave no automatic event, by reason: `notPage` (a GET answered with something
   * other than HTML under `pageViews: 'html'`, HEAD, OPTIONS), `bot`, `prefetch` (prefetch and
   * prerender), `ignored` (the `ignore`/`classify` options, route config `false`, `skip()`,
   * `pageViews: false`, `actions: false`), `noRoute` (a non-GET that matched no route),
   * `consent` (the request's consent was `'denied'`), `beforeSend` (the hook returned null),
   * `spam` (the Referer is on the referrer-spam list).
   */
  skipped: SkippedCounters
  /** Tracked events not emitted because their request's consent was `'denied'` (automatic ones: `skipped.consent`). */
  consentDenied: number
  /** Tracked events `beforeSend` returned null for (automatic ones: `skipped.beforeSend`). */
  beforeSendDropped: number
  /** Events (automatic or tracked) dropped because `beforeSend` threw or returned something that is not an event: fail closed. */
  beforeSendFailed: number
  /**
   * Calls that found no request event to act on, so did nothing: a module helper outside a request
   * (or with `requestContext: false`), or a `request.analytics` call that shapes the automatic event
   * made before the plugin's onRequest hook, outside its scope, or after the event was built.
   */
  unattached: number
}

/** A reason for `stats().events.skipped`. */
export type SkipReason = keyof SkippedCounters

/** Fresh zeroed counters. */
export function emptyEventCounters (): EventCounters {
  return {
    emitted: 0,
    invalid: 0,
    propertiesDropped: 0,
    truncated: 0,
    skipped: { notPage: 0, bot: 0, prefetch: 0, ignored: 0, noRoute: 0, consent: 0, beforeSend: 0, spam: 0 },
    consentDenied: 0,
    beforeSendDropped: 0,
    beforeSendFailed: 0,
    unattached: 0
  }
}

/** `app.analytics.stats()`. */
export interface AnalyticsStats {
  events: EventCounters
  collectors: Record<string, CollectorStats>
  /** Visitors and visits: where they are kept, how many, and what the store could not answer. */
  visits: VisitStats
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
  /** The request's consent, asked at its first event; undefined until then. */
  consent: ConsentDecision | '' | undefined
}

/** A route's resolved analytics config and its pattern, computed on its first request. */
interface RouteInfo {
  descriptor: RouteDescriptor
  pattern: string
}

export { CLIENT_CLOSED_REQUEST } from './abandon.js'

/**
 * The plugin's runtime: builds events from requests, counts what is refused, and hands the
 * rest to the fan-out. One per plugin registration.
 */
export class Tracker {
  readonly counters: EventCounters = emptyEventCounters()
  readonly #options: NormalizedOptions
  readonly #fanOut: FanOut
  readonly #clients: ClientClassifier
  readonly #enrich: EnrichOptions
  readonly #urlCleaner: UrlCleaner
  readonly #log: RateLimitedLog
  /** Where every entry point reports a string cut to its cap: counted, and logged rate-limited. */
  readonly cuts: TextCuts = { cut: (field) => this.#truncated(field) }
  // Keyed by the route's config object, which Fastify keeps for the life of the route.
  readonly #routes = new WeakMap<object, RouteInfo>()
  /** `logLevel` / `logSerializers` given at registration, for the per-request child loggers. */
  readonly #childOptions: { level?: string, serializers?: Record<string, (value: unknown) => unknown> } | undefined
  #unattachedLogged = false
  // Visitors, visits and country (the `visits` and `geo` options): see #identify.
  readonly #visitors: Visitors | undefined
  readonly #countries: CountryResolver | undefined
  /** Events waiting for an asynchronous visit store; flush and close wait for them first. */
  readonly #waiting = new Set<Promise<void>>()

  constructor (options: NormalizedOptions, log: Logger) {
    this.#options = options
    this.#childOptions = childLoggerOptions(options)
    const child = log.child({ plugin: 'analytics' }, this.#childOptions) as Logger
    this.#log = new RateLimitedLog(child)
    this.#fanOut = new FanOut(options.collectors, this.#childOptions === undefined ? log : log.child({}, this.#childOptions) as Logger)
    this.#clients = new ClientClassifier(options.bots !== 'keep')
    this.#urlCleaner = new UrlCleaner(options.privacy)
    this.#visitors = options.visits === false ? undefined : new Visitors(options.visits, this.#log, options.privacy.redactEmails)
    // Opens the country database now: an unreadable one fails the registration, not a request.
    this.#countries = options.geo === false ? undefined : new CountryResolver(options.geo)
    this.#enrich = {
      locale: options.locale,
      userId: options.userId,
      onCallbackError: (option, error, request) => this.#log.error(`option:${option}`, { err: error }, `analytics ${option}() option threw; the field is left empty`, this.#requestLog(request)),
      cuts: this.cuts
    }
  }

  /** A line about one request goes through `request.log`, so it carries the `reqId`; made only when written. */
  #requestLog (request: FastifyRequest | undefined): (() => Logger) | undefined {
    if (request === undefined) return undefined
    return () => request.log.child({ plugin: 'analytics' }, this.#childOptions) as Logger
  }

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

  #truncated (field: string): void {
    this.counters.truncated++
    this.#log.warn('truncated', { field }, `analytics ${field} cut to its maximum length (see docs/guarantees.md); counted in stats().events.truncated`)
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

  /**
   * The one way out, for automatic and tracked events: consent, the privacy rules, `beforeSend`,
   * then fan-out (DESIGN §7). `state` is the request's (null outside a request, or when an earlier
   * onRequest hook replied before ours).
   */
  emit (event: AnalyticsEvent, state: RequestState | null, automatic: boolean): void {
    const consent = this.#consent(event.request, state)
    if (consent === 'denied') {
      if (automatic) this.counters.skipped.consent++
      else this.counters.consentDenied++
      event.request = undefined
      return
    }
    this.#urlCleaner.apply(event)
    const request = event.request
    if (request !== undefined && (this.#visitors !== undefined || this.#countries !== undefined)) {
      const waiting = this.#identify(event, request)
      if (waiting !== undefined) return this.#wait(waiting, event, consent, automatic)
    }
    this.#send(event, consent, automatic)
  }

  /**
   * Country, visitor id and visit, from what the request sent: after consent (a denied visitor leaves
   * nothing in the visit store) and the privacy rules (the landing path is the cleaned path), before
   * the IP is truncated for an anonymous visitor. Synchronous unless the visit store is asynchronous.
   */
  #identify (event: AnalyticsEvent, request: FastifyRequest): Promise<void> | undefined {
    if (this.#countries !== undefined && event.country === '') event.country = this.#countries.country(request, event.clientIP)
    if (this.#visitors === undefined || event.visitorId !== '') return undefined
    return this.#visitors.identify(event, request)
  }

  /** The event goes on once the store answered (it always does, by its timeout); flush and close wait for it. */
  #wait (waiting: Promise<void>, event: AnalyticsEvent, consent: EventConsent, automatic: boolean): void {
    const sent = waiting.then(() => this.#send(event, consent, automatic)).catch((error: unknown) => {
      this.#log.error('visits', { err: error }, 'analytics event lost after its visit was resolved')
    }).finally(() => this.#waiting.delete(sent))
    this.#waiting.add(sent)
  }

  async #settled (): Promise<void> {
    while (this.#waiting.size > 0) await Promise.all(this.#waiting)
  }

  /** After the visit: anonymisation, `beforeSend`, fan-out. */
  #send (event: AnalyticsEvent, consent: EventConsent, automatic: boolean): void {
    if (consent === 'anonymous') {
      event.userId = ''
      event.clientIP = applyIpPolicy(event.clientIP, 'truncate')
    }
    event.consent = consent
    if (this.#options.beforeSend !== undefined) {
      const kept = this.#beforeSend(event, automatic)
      if (kept === undefined) return
      event = kept
    }
    this.counters.emitted++
    this.#fanOut.publish(event)
  }

  /** The request's consent, asked once (the first event of a request caches it in `state`). */
  #consent (request: FastifyRequest | undefined, state: RequestState | null): ConsentDecision | '' {
    const options = this.#options
    if (request === undefined || (options.consent === undefined && !options.respectGpc)) return ''
    if (state !== null && state.consent !== undefined) return state.consent
    let decision: ConsentDecision | '' = ''
    if (options.consent !== undefined) {
      try {
        const answer: unknown = options.consent(request)
        if (answer === 'granted' || answer === 'anonymous' || answer === 'denied') decision = answer
        else if (answer !== undefined) {
          decision = 'denied'
          this.#log.error('option:consent', { type: typeof answer }, 'analytics consent() option returned neither "granted", "anonymous", "denied" nor undefined; treated as "denied"')
        }
      } catch (error) {
        // Fail closed: an answer we could not get is not a yes.
        decision = 'denied'
        this.#log.error('option:consent', { err: error }, 'analytics consent() option threw; the request is treated as "denied"')
      }
    }
    // GPC caps the answer: a visitor who asked not to be tracked across sites is at most anonymous.
    if (options.respectGpc && decision !== 'denied' && hasGpc(request)) decision = 'anonymous'
    if (state !== null) state.consent = decision
    return decision
  }

  /** Runs `beforeSend`; returns the event to send, or undefined when it is dropped (counted, never thrown). */
  #beforeSend (event: AnalyticsEvent, automatic: boolean): AnalyticsEvent | undefined {
    const request = event.request
    let result: unknown
    try {
      result = (this.#options.beforeSend as (event: AnalyticsEvent) => unknown)(event)
    } catch (error) {
      return this.#beforeSendFailed(event, { err: error }, 'analytics beforeSend() threw; the event is dropped')
    }
    if (result === null) {
      if (automatic) this.counters.skipped.beforeSend++
      else this.counters.beforeSendDropped++
      event.request = undefined
      return undefined
    }
    // The hook may have changed anything, or returned another object: collectors get only a valid
    // event, so it is checked and copied like a track() input. Consent is the plugin's, not the hook's.
    const normalized = normalizeEventInput(result ?? event, event.timestamp, this.cuts)
    if (typeof normalized === 'string') {
      const reason = result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function'
        ? 'beforeSend must return synchronously'
        : normalized
      return this.#beforeSendFailed(event, { reason }, `analytics beforeSend() returned an invalid event (${reason}); the event is dropped`)
    }
    this.propertiesDropped(normalized.droppedProperties)
    const kept = normalized.event
    kept.request = request
    kept.consent = event.consent
    // Like consent, the visitor, visit and country are the plugin's: carried over the hook's copy.
    kept.visitorId = event.visitorId
    kept.visit = event.visit
    kept.country = event.country
    return kept
  }

  #beforeSendFailed (event: AnalyticsEvent, fields: Record<string, unknown>, message: string): undefined {
    this.counters.beforeSendFailed++
    event.request = undefined
    this.#log.error('option:beforeSend', fields, message)
    return undefined
  }

  /** `track()` from application code; `request` enriches it when there is one, `state` holds its consent. */
  track (input: unknown, request: FastifyRequest | undefined, state: RequestState | null = null): void {
    const normalized = normalizeEventInput(input, new Date(), this.cuts)
    if (typeof normalized === 'string') {
      this.invalid('event', normalized, request)
      return
    }
    this.propertiesDropped(normalized.droppedProperties, request)
    const event = normalized.event
    if (request !== undefined) {
      enrichFromRequest(event, request, request.routeOptions.url ?? '', this.#enrich)
      // Explicit events are kept even from bots (the app asked for them): labelled, not skipped.
      event.client = this.#clients.classify(request, event.userAgent)
    }
    this.emit(event, state, false)
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

  /** The automatic event's type, or why there is none. */
  #classify (request: FastifyRequest, reply: FastifyReply, descriptor: RouteDescriptor): EventType | SkipReason {
    const options = this.#options
    if (options.classify !== undefined) {
      try {
        const chosen = options.classify(request, reply)
        if (chosen !== undefined) return chosen === EventType.PageView || chosen === EventType.Action ? chosen : 'ignored'
      } catch (error) {
        this.#log.error('option:classify', { err: error }, 'analytics classify() option threw; using the default classification', this.#requestLog(request))
      }
    }
    if (descriptor.disabled) return 'ignored'
    const method = request.method
    // A 404 for a GET may be a page (a broken link); a POST to nowhere is a probe, not an action.
    if (method !== 'GET' && request.is404) return 'noRoute'
    if (descriptor.type === EventType.PageView) return options.pageViews !== false ? EventType.PageView : 'ignored'
    if (descriptor.type === EventType.Action) return options.actions ? EventType.Action : 'ignored'
    switch (method) {
      case 'GET':
        if (options.pageViews === false) return 'ignored'
        return options.pageViews === 'all' || isHtml(reply.getHeader('content-type')) ? EventType.PageView : 'notPage'
      case 'POST':
      case 'PUT':
      case 'PATCH':
      case 'DELETE': return options.actions ? EventType.Action : 'ignored'
      default: return 'notPage'
    }
  }

  #skip (reason: SkipReason): void {
    this.counters.skipped[reason]++
  }

  /**
   * Builds the one automatic event of a request, or counts why there is none. `unfinished` is 0 for a
   * completed response, else the status that says why it did not complete (499 abandoned, see `unfinishedStatus`).
   * `state` is null when an earlier onRequest hook replied before ours ran.
   */
  automatic (request: FastifyRequest, reply: FastifyReply, state: RequestState | null, unfinished = 0): void {
    if (state !== null) {
      if (state.done) return
      state.done = true
      if (state.skipped) return this.#skip('ignored')
    }
    const options = this.#options
    if (options.ignore !== undefined) {
      try {
        if (options.ignore(request) === true) return this.#skip('ignored')
      } catch (error) {
        this.#log.error('option:ignore', { err: error }, 'analytics ignore() option threw; the request is tracked', this.#requestLog(request))
      }
    }
    const { descriptor, pattern } = this.#route(request)
    const promoted = state !== null && state.eventName !== ''
    const type = promoted ? EventType.Custom : this.#classify(request, reply, descriptor)
    if (type !== EventType.PageView && type !== EventType.Action && type !== EventType.Custom) return this.#skip(type)
    if (type === EventType.PageView && isPrefetch(request)) return this.#skip('prefetch')
    const userAgent = boundField('userAgent', header(request, 'user-agent'), this.cuts)
    const client = this.#clients.classify(request, userAgent)
    if (client.bot && options.bots === 'skip') return this.#skip('bot')
    const referrer = request.headers.referer
    if (typeof referrer === 'string' && referrer !== '' && isReferrerSpam(referrer)) return this.#skip('spam')
    // Fastify starts the reply's clock when the request starts, so elapsedTime holds for an abandoned one too.
    const durationMs = reply.elapsedTime
    // The request's properties become the event's (no copy, no empty object made to be replaced).
    const event = createEvent(type, new Date(Date.now() - durationMs), state?.properties)
    event.durationMs = roundDuration(durationMs)
    event.statusCode = unfinished !== 0 ? unfinished : reply.statusCode
    event.userAgent = userAgent
    event.client = client
    if (promoted) event.eventName = state.eventName
    if (type === EventType.Action) event.actionName = boundField('actionName', descriptor.actionName !== '' ? descriptor.actionName : `${request.method} ${pattern}`, this.cuts)
    if (state !== null) {
      // The event owns them now: a late addProperty must not change what collectors saw.
      state.properties = undefined
      event.revenue = state.revenue
      event.userId = state.userId
    }
    enrichFromRequest(event, request, pattern, this.#enrich)
    this.emit(event, state, true)
  }

  stats (): AnalyticsStats {
    const counters = this.counters
    return { events: { ...counters, skipped: { ...counters.skipped } }, collectors: this.#fanOut.stats(), visits: this.#visitors?.stats() ?? { ...VISITS_OFF } }
  }

  /** Starts every collector (`onReady`); rejects with `FST_ANALYTICS_START_FAILED`. */
  async start (timeoutMs: number): Promise<void> {
    await Promise.all([this.#fanOut.start(timeoutMs), this.#visitors?.start(this.#log.log)])
  }

  /** Flushes every collector; resolves at the deadline whatever they do. */
  async flush (timeoutMs: number): Promise<void> {
    // Events waiting for the visit store are accepted events: they reach the collectors first.
    await this.#settled()
    return this.#fanOut.flush(timeoutMs)
  }

  /** Flushes then closes every collector (`onClose`), then logs one line with the event-level counters (skips included). */
  async close (timeoutMs: number): Promise<void> {
    await this.#settled()
    await this.#fanOut.close(timeoutMs)
    await this.#visitors?.close()
    this.#log.log.info({ events: this.stats().events }, 'analytics closed')
  }
}

// `text/html; charset=utf-8`, any case; XHTML pages are pages too.
const HTML_TYPE = /^\s*(?:text\/html|application\/xhtml\+xml)\s*(?:;|$)/i

// An app sends its HTML with one Content-Type string, mostly the same constant: a hit skips the regex.
let lastHtmlType = ''

function isHtml (contentType: unknown): boolean {
  if (typeof contentType !== 'string') return false
  if (contentType === lastHtmlType) return true
  if (!HTML_TYPE.test(contentType)) return false
  lastHtmlType = contentType
  return true
}

// `Sec-Purpose: prefetch` (Chrome, Firefox; `prefetch;prerender` for Chrome's prerender) and the
// older `Purpose: prefetch`: the visitor may never see the page, so it is no page view.
function isPrefetch (request: FastifyRequest): boolean {
  const headers = request.headers
  const purpose = headers['sec-purpose'] ?? headers.purpose
  return typeof purpose === 'string' && purpose.toLowerCase().includes('prefetch')
}

/** Fastify's `logLevel` / `logSerializers` register options as pino child options, for every logger the plugin makes. */
export function childLoggerOptions (options: NormalizedOptions): { level?: string, serializers?: Record<string, (value: unknown) => unknown> } | undefined {
  if (options.logLevel === undefined && options.logSerializers === undefined) return undefined
  const childOptions: { level?: string, serializers?: Record<string, (value: unknown) => unknown> } = {}
  if (options.logLevel !== undefined) childOptions.level = options.logLevel
  if (options.logSerializers !== undefined) childOptions.serializers = options.logSerializers
  return childOptions
}
