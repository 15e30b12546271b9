import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AnalyticsCollector, CollectorStats } from './collector.js'
import { FanOut } from './fan-out.js'
import { resolveLocale, resolveUserId, type EnrichOptions } from './enrich.js'
import { boundField, EventType, normalizeEventInput, type EventProperties, type TextCuts } from './event.js'
import { RateLimitedLog, type Logger } from './log.js'
import type { Money } from './money.js'
import { DEFAULT_ROUTE, routeDescriptor, type NormalizedOptions, type RouteDescriptor } from './options.js'
import { hasGpc, type ConsentDecision } from './privacy/index.js'
import { classifyRequest } from './pipeline/classify.js'
import { countingCuts, countPropertiesDropped, emptyEventCounters, type EventCounters, type SkipReason } from './pipeline/counters.js'
import { captureFacts, type CaptureSettings, type RequestFacts } from './pipeline/facts.js'
import { Pipeline, type AutomaticCapture, type BeforeSend, type RemotePipeline } from './pipeline/index.js'
import { VISITS_OFF, type VisitStats } from './visits/index.js'
import { crawlerStats } from './crawlers/tally.js'

export { emptyEventCounters, type EventCounters, type SkippedCounters, type SkipReason } from './pipeline/counters.js'

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
 * The plugin's runtime on the request thread: captures each request's facts and the answers of the
 * app's callbacks, counts what is refused, and hands the rest to the pipeline. One per registration.
 */
export class Tracker {
  readonly counters: EventCounters = emptyEventCounters()
  readonly #options: NormalizedOptions
  readonly #fanOut: FanOut
  /** On the request thread (`'inline'`, or worker delivery that could not take it); else undefined. */
  readonly #pipeline: Pipeline | undefined
  /** The pipeline in the delivery worker: captures go there. */
  readonly #remote: RemotePipeline | undefined
  readonly #visitsStore: string
  readonly #enrich: EnrichOptions
  readonly #capture: CaptureSettings
  readonly #log: RateLimitedLog
  /** Where every entry point reports a string cut to its cap: counted, and logged rate-limited. */
  readonly cuts: TextCuts
  // Keyed by the route's config object, which Fastify keeps for the life of the route.
  readonly #routes = new WeakMap<object, RouteInfo>()
  /** `logLevel` / `logSerializers` given at registration, for the per-request child loggers. */
  readonly #childOptions: { level?: string, serializers?: Record<string, (value: unknown) => unknown> } | undefined
  #unattachedLogged = false

  /** `remote`: the pipeline runs in the delivery worker (see planDelivery); the request thread then only captures. */
  constructor (options: NormalizedOptions, log: Logger, remote?: RemotePipeline) {
    this.#options = options
    this.#childOptions = childLoggerOptions(options)
    const child = log.child({ plugin: 'analytics' }, this.#childOptions) as Logger
    this.#log = new RateLimitedLog(child)
    const fanOut = new FanOut(options.collectors, this.#childOptions === undefined ? log : log.child({}, this.#childOptions) as Logger, remote?.acceptedElsewhere)
    this.#fanOut = fanOut
    this.#remote = remote
    this.#pipeline = remote !== undefined ? undefined : new Pipeline(options, this.counters, this.#log, (event) => fanOut.publish(event), options.beforeSend as BeforeSend | undefined)
    this.#visitsStore = options.visits === false ? 'off' : 'memory'
    this.cuts = this.#pipeline?.cuts ?? countingCuts(this.counters, this.#log)
    this.#capture = { headers: declaredHeaders(options.collectors), countryHeader: options.geo === false ? undefined : options.geo.header }
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
    // Checked first: the per-request logger closure is made only for a line that will be written.
    if (count !== 0) countPropertiesDropped(this.counters, this.#log, count, this.#requestLog(request))
  }

  /** Counts a call that found no request event to act on; the first one is logged with the likely causes. */
  unattached (what: string, request?: FastifyRequest): void {
    this.counters.unattached++
    if (this.#unattachedLogged) return
    this.#unattachedLogged = true
    const log = this.#requestLog(request)?.() ?? this.#log.log
    log.warn({ call: what }, `analytics ${what}() found no request event to act on and did nothing: it ran outside a request ` +
      '(or with the request context off), before the plugin\'s onRequest hook, in a scope the plugin is not registered in ' +
      '(register it at the root or wrap the file in fastify-plugin), or after the event was built. ' +
      'Outside requests (jobs, queue consumers, startup) use app.analytics.track(event); inside them, ' +
      'requestContext: true (the default on Node 24 and later) lets the module helpers find the request. ' +
      'Counted in stats().events.unattached; logged once')
  }

  /** The request's facts, with the `userId` and `locale` options asked only when the event lacks them. */
  #facts (request: FastifyRequest, needUserId: boolean, needLocale: boolean): RequestFacts {
    const userId = needUserId ? resolveUserId(request, this.#enrich) : undefined
    const locale = needLocale ? resolveLocale(request, this.#enrich) : undefined
    return captureFacts(request, this.#capture, userId, locale)
  }

  /** The request's consent, asked once (the first event of a request caches it in `state`). */
  #consent (request: FastifyRequest, state: RequestState | null): ConsentDecision | '' {
    const options = this.#options
    if (options.consent === undefined && !options.respectGpc) return ''
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

  /** `track()` from application code; `request` enriches it when there is one, `state` holds its consent. */
  track (input: unknown, request: FastifyRequest | undefined, state: RequestState | null = null): void {
    const normalized = normalizeEventInput(input, new Date(), this.cuts)
    if (typeof normalized === 'string') {
      this.invalid('event', normalized, request)
      return
    }
    this.propertiesDropped(normalized.droppedProperties, request)
    const event = normalized.event
    let facts: RequestFacts | undefined
    let consent: ConsentDecision | '' = ''
    if (request !== undefined) {
      facts = this.#facts(request, event.userId === '', event.locale === '')
      consent = this.#consent(request, state)
      if (event.matchedPattern === '') event.matchedPattern = boundField('matchedPattern', request.routeOptions.url ?? '', this.cuts)
    }
    if (this.#remote !== undefined) return this.#remote.tracked(event, facts, consent)
    event.request = request
    ;(this.#pipeline as Pipeline).tracked(event, facts, consent)
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

  /** The automatic event's type, or why there is none: the app's `classify` first, then the route and response. */
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
    return classifyRequest(request.method, request.is404, reply.getHeader('content-type'), descriptor, options)
  }

  /**
   * Captures the one automatic event of a request, or counts why there is none. `unfinished` is 0 for a
   * completed response, else the status that says why it did not complete (499 abandoned, see `unfinishedStatus`).
   * `state` is null when nothing used `request.analytics` (or an earlier onRequest hook replied before ours ran).
   */
  automatic (request: FastifyRequest, reply: FastifyReply, state: RequestState | null, unfinished = 0): void {
    const skipped = this.counters.skipped
    if (state !== null) {
      if (state.done) return
      state.done = true
      if (state.skipped) {
        skipped.ignored++
        return
      }
    }
    const options = this.#options
    if (options.ignore !== undefined) {
      try {
        if (options.ignore(request) === true) {
          skipped.ignored++
          return
        }
      } catch (error) {
        this.#log.error('option:ignore', { err: error }, 'analytics ignore() option threw; the request is tracked', this.#requestLog(request))
      }
    }
    const { descriptor, pattern } = this.#route(request)
    const eventName = state?.eventName ?? ''
    const type = eventName !== '' ? EventType.Custom : this.#classify(request, reply, descriptor)
    if (type !== EventType.PageView && type !== EventType.Action && type !== EventType.Custom) {
      skipped[type]++
      return
    }
    // Fastify starts the reply's clock when the request starts, so elapsedTime holds for an abandoned one too.
    const durationMs = reply.elapsedTime
    const userId = state?.userId ?? ''
    const capture: AutomaticCapture = {
      type,
      facts: this.#facts(request, userId === '', true),
      startMs: Date.now() - durationMs,
      durationMs,
      statusCode: unfinished !== 0 ? unfinished : reply.statusCode,
      pattern,
      actionName: type === EventType.Action ? (descriptor.actionName !== '' ? descriptor.actionName : `${request.method} ${pattern}`) : '',
      eventName,
      revenue: state?.revenue,
      properties: state?.properties,
      userId,
      consent: this.#consent(request, state)
    }
    // The event owns them now: a late addProperty must not change what collectors saw.
    if (state !== null) state.properties = undefined
    if (this.#remote !== undefined) this.#remote.automatic(capture)
    else (this.#pipeline as Pipeline).automatic(capture, request)
  }

  stats (): AnalyticsStats {
    const counters = this.counters
    const events = { ...counters, skipped: { ...counters.skipped } }
    const collectors = this.#fanOut.stats()
    events.crawlers = crawlerStats(this.#remote === undefined ? (this.#pipeline as Pipeline).crawlers : this.#remote.crawlers())
    if (this.#remote === undefined) return { events, collectors, visits: (this.#pipeline as Pipeline).visitStats() }
    // The worker's pipeline counts what it skipped and emitted; the request thread, what it refused.
    const remote = this.#remote.figures()
    events.emitted += remote.emitted
    events.truncated += remote.truncated
    events.consentDenied += remote.consentDenied
    events.skipped.prefetch += remote.prefetch
    events.skipped.bot += remote.bot
    events.skipped.spam += remote.spam
    events.skipped.consent += remote.consent
    const visits = this.#visitsStore === 'off'
      ? { ...VISITS_OFF }
      : { store: this.#visitsStore, visitors: remote.visitors, evictions: remote.evictions, fallbacks: remote.fallbacks }
    return { events, collectors, visits }
  }

  /** Starts every collector (`onReady`); rejects with `FST_ANALYTICS_START_FAILED`. */
  async start (timeoutMs: number): Promise<void> {
    await Promise.all([this.#fanOut.start(timeoutMs), this.#pipeline?.start()])
  }

  /** Flushes every collector; resolves at the deadline whatever they do. */
  async flush (timeoutMs: number): Promise<void> {
    // Events waiting for the visit store are accepted events: they reach the collectors first.
    await this.#pipeline?.settled()
    return this.#fanOut.flush(timeoutMs)
  }

  /** Flushes then closes every collector (`onClose`), then logs one line with the event-level counters (skips included). */
  async close (timeoutMs: number): Promise<void> {
    await this.#pipeline?.settled()
    await this.#fanOut.close(timeoutMs)
    await this.#pipeline?.close()
    this.#log.log.info({ events: this.stats().events }, 'analytics closed')
  }
}

/** The request headers the collectors declared, lower case, each once. */
function declaredHeaders (collectors: readonly AnalyticsCollector[]): string[] {
  const names = new Set<string>()
  for (const collector of collectors) {
    const declared: unknown = collector.requestHeaders
    if (!Array.isArray(declared)) continue
    for (const name of declared) if (typeof name === 'string' && name !== '') names.add(name.toLowerCase())
  }
  return [...names]
}

/** Fastify's `logLevel` / `logSerializers` register options as pino child options, for every logger the plugin makes. */
export function childLoggerOptions (options: NormalizedOptions): { level?: string, serializers?: Record<string, (value: unknown) => unknown> } | undefined {
  if (options.logLevel === undefined && options.logSerializers === undefined) return undefined
  const childOptions: { level?: string, serializers?: Record<string, (value: unknown) => unknown> } = {}
  if (options.logLevel !== undefined) childOptions.level = options.logLevel
  if (options.logSerializers !== undefined) childOptions.serializers = options.logSerializers
  return childOptions
}
