import type { FastifyRequest } from 'fastify'
import { isReferrerSpam } from '../attribution/index.js'
import { ClientClassifier } from '../client.js'
import { countCrawler, emptyCrawlerBlock } from '../crawlers/tally.js'
import { enrichFromFacts } from '../enrich.js'
import { boundField, createEvent, EventType, normalizeEventInput, roundDuration, type AnalyticsEvent, type EventProperties, type TextCuts } from '../event.js'
import type { RateLimitedLog } from '../log.js'
import type { Money } from '../money.js'
import type { BotsMode } from '../options.js'
import { applyIpPolicy, UrlCleaner, type ConsentDecision, type EventConsent, type UrlPolicy } from '../privacy/index.js'
import { CountryResolver, Visitors, VISITS_OFF, type VisitSettings, type VisitStats } from '../visits/index.js'
import type { GeoSettings } from '../visits/country.js'
import { isPrefetch } from './classify.js'
import { countingCuts, countPropertiesDropped, type EventCounters } from './counters.js'
import type { RequestFacts } from './facts.js'

/**
 * The options the pipeline's stages read: plain data (no callback of the app's), so the same
 * settings build the pipeline on the request thread or in the delivery worker.
 */
export interface PipelineSettings {
  bots: BotsMode
  privacy: UrlPolicy
  visits: VisitSettings | false
  geo: GeoSettings | false
}

/** One request's automatic event as the request thread captured it: its type decided, its facts read, `request.analytics` taken. */
export interface AutomaticCapture {
  /** `custom` for an event promoted by `setEventName`. */
  type: EventType
  facts: RequestFacts
  /** When the request started (ms since the epoch). */
  startMs: number
  durationMs: number
  /** The response's status, or the status that says why it did not complete (499). */
  statusCode: number
  /** The matched route pattern; '' for a 404. */
  pattern: string
  /** Action events: the route's action name, else `"<METHOD> <pattern>"`; '' otherwise. */
  actionName: string
  eventName: string
  revenue: Money | undefined
  properties: EventProperties | undefined
  /** `request.analytics.setUserId`'s id; '' when not set. */
  userId: string
  /** The request's consent (the `consent` option's answer, capped by GPC); '' when none was asked. */
  consent: ConsentDecision | ''
}

/** The worker pipeline's counters and visit figures, as the request thread reads them. */
export interface RemoteFigures {
  emitted: number
  truncated: number
  prefetch: number
  bot: number
  spam: number
  consent: number
  consentDenied: number
  visitors: number
  evictions: number
  fallbacks: number
}

/** The pipeline when it runs in the delivery worker: what the request thread hands it and reads back. */
export interface RemotePipeline {
  automatic: (capture: AutomaticCapture) => void
  tracked: (event: AnalyticsEvent, facts: RequestFacts | undefined, consent: ConsentDecision | '') => void
  figures: () => RemoteFigures
  /** Events a collector accepted from the remote pipeline (the fan-out on the request thread never saw them). */
  acceptedElsewhere: (collector: object) => number
  /** The worker pipeline's crawler counts (lib/crawlers/tally.ts), summed over every worker. */
  crawlers: () => Float64Array
}

/** `beforeSend`, on the request thread only: it needs the built event there, synchronously. */
export type BeforeSend = (event: AnalyticsEvent) => unknown

/**
 * Every stage after the capture: prefetch, client and bots, referrer spam, the event itself,
 * enrichment, the privacy rules, country, visitor and visit, anonymisation, `beforeSend`, then
 * publication. Counts what it skips in `counters`. One per registration on the request thread, or
 * one in the delivery worker (`delivery: 'worker'` with every collector there and no `beforeSend`).
 */
export class Pipeline {
  readonly counters: EventCounters
  /** Crawler requests (`stats().events.crawlers`), as the flat block lib/crawlers/tally.ts reads. */
  readonly crawlers = emptyCrawlerBlock()
  readonly #settings: PipelineSettings
  readonly #clients: ClientClassifier
  readonly #urlCleaner: UrlCleaner
  readonly #visitors: Visitors | undefined
  readonly #countries: CountryResolver | undefined
  readonly #log: RateLimitedLog
  readonly #publish: (event: AnalyticsEvent) => void
  readonly #beforeSend: BeforeSend | undefined
  /** Where every stage reports a string cut to its cap: counted, and logged rate-limited. */
  readonly cuts: TextCuts
  /** Events waiting for an asynchronous visit store; flush and close wait for them first. */
  readonly #waiting = new Set<Promise<void>>()

  constructor (settings: PipelineSettings, counters: EventCounters, log: RateLimitedLog, publish: (event: AnalyticsEvent) => void, beforeSend?: BeforeSend) {
    this.#settings = settings
    this.counters = counters
    this.#log = log
    this.#publish = publish
    this.#beforeSend = beforeSend
    this.cuts = countingCuts(counters, log)
    this.#clients = new ClientClassifier(settings.bots !== 'keep')
    this.#urlCleaner = new UrlCleaner(settings.privacy)
    this.#visitors = settings.visits === false ? undefined : new Visitors(settings.visits, log, settings.privacy.redactEmails)
    // Opens the country database now: an unreadable one fails the registration, not a request.
    this.#countries = settings.geo === false ? undefined : new CountryResolver(settings.geo)
  }

  /**
   * A request's automatic event, from its capture: built, or counted as skipped. `request`: on the
   * request thread, the live request for collectors that still read `event.request` (deprecated).
   */
  automatic (capture: AutomaticCapture, request?: FastifyRequest): void {
    const { type, facts } = capture
    const skipped = this.counters.skipped
    if (type === EventType.PageView && isPrefetch(facts.purpose)) {
      skipped.prefetch++
      return
    }
    const cuts = this.cuts
    const userAgent = boundField('userAgent', facts.userAgent, cuts)
    const client = this.#clients.classify(userAgent, facts.mobileHint, facts.platformHint, facts.ip)
    if (client.crawler !== null) countCrawler(this.crawlers, client.crawler)
    if (client.bot && this.#settings.bots === 'skip') {
      skipped.bot++
      return
    }
    if (facts.referrer !== '' && isReferrerSpam(facts.referrer)) {
      skipped.spam++
      return
    }
    // The request's properties become the event's (no copy, no empty object made to be replaced).
    const event = createEvent(type, new Date(capture.startMs), capture.properties)
    event.durationMs = roundDuration(capture.durationMs)
    event.statusCode = capture.statusCode
    event.userAgent = userAgent
    event.client = client
    if (capture.eventName !== '') event.eventName = capture.eventName
    if (type === EventType.Action) event.actionName = boundField('actionName', capture.actionName, cuts)
    event.revenue = capture.revenue
    event.userId = capture.userId
    enrichFromFacts(event, facts, capture.pattern, cuts)
    event.request = request
    this.emit(event, facts, capture.consent, true)
  }

  /** An event `track()` built; `facts` are its request's (undefined outside a request). */
  tracked (event: AnalyticsEvent, facts: RequestFacts | undefined, consent: ConsentDecision | ''): void {
    if (facts !== undefined) {
      enrichFromFacts(event, facts, event.matchedPattern, this.cuts)
      // Explicit events are kept even from bots (the app asked for them): labelled, not skipped.
      event.client = this.#clients.classify(event.userAgent, facts.mobileHint, facts.platformHint, facts.ip)
    }
    this.emit(event, facts, consent, false)
  }

  /**
   * The one way out, for automatic and tracked events: consent, the privacy rules, country, visitor
   * and visit, anonymisation, `beforeSend`, then publication (DESIGN §7).
   */
  emit (event: AnalyticsEvent, facts: RequestFacts | undefined, consent: ConsentDecision | '', automatic: boolean): void {
    if (consent === 'denied') {
      if (automatic) this.counters.skipped.consent++
      else this.counters.consentDenied++
      event.request = undefined
      return
    }
    this.#urlCleaner.apply(event)
    if (facts !== undefined && (this.#visitors !== undefined || this.#countries !== undefined)) {
      const waiting = this.#identify(event, facts)
      if (waiting !== undefined) return this.#wait(waiting, event, consent, automatic)
    }
    this.#send(event, consent, automatic)
  }

  /**
   * Country, visitor id and visit, from what the request sent: after consent (a denied visitor leaves
   * nothing in the visit store) and the privacy rules (the landing path is the cleaned path), before
   * the IP is truncated for an anonymous visitor. Synchronous unless the visit store is asynchronous.
   */
  #identify (event: AnalyticsEvent, facts: RequestFacts): Promise<void> | undefined {
    if (this.#countries !== undefined && event.country === '') event.country = this.#countries.country(facts.countryHeader, event.clientIP)
    if (this.#visitors === undefined || event.visitorId !== '') return undefined
    return this.#visitors.identify(event, facts)
  }

  /** The event goes on once the store answered (it always does, by its timeout); flush and close wait for it. */
  #wait (waiting: Promise<void>, event: AnalyticsEvent, consent: EventConsent, automatic: boolean): void {
    const sent = waiting.then(() => this.#send(event, consent, automatic)).catch((error: unknown) => {
      this.#log.error('visits', { err: error }, 'analytics event lost after its visit was resolved')
    }).finally(() => this.#waiting.delete(sent))
    this.#waiting.add(sent)
  }

  /** Resolves once no event waits for the visit store. */
  async settled (): Promise<void> {
    while (this.#waiting.size > 0) await Promise.all(this.#waiting)
  }

  /** After the visit: anonymisation, `beforeSend`, publication. */
  #send (event: AnalyticsEvent, consent: EventConsent, automatic: boolean): void {
    if (consent === 'anonymous') {
      event.userId = ''
      event.clientIP = applyIpPolicy(event.clientIP, 'truncate')
    }
    event.consent = consent
    if (this.#beforeSend !== undefined) {
      const kept = this.#runBeforeSend(this.#beforeSend, event, automatic)
      if (kept === undefined) return
      event = kept
    }
    this.counters.emitted++
    this.#publish(event)
  }

  /** Runs `beforeSend`; returns the event to send, or undefined when it is dropped (counted, never thrown). */
  #runBeforeSend (beforeSend: BeforeSend, event: AnalyticsEvent, automatic: boolean): AnalyticsEvent | undefined {
    const request = event.request
    let result: unknown
    try {
      result = beforeSend(event)
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
    // Properties `beforeSend`'s copy dropped; `invalid`-style input errors are the request thread's.
    countPropertiesDropped(this.counters, this.#log, normalized.droppedProperties)
    const kept = normalized.event
    kept.request = request
    kept.requestHeaders = event.requestHeaders
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

  visitStats (): VisitStats {
    return this.#visitors?.stats() ?? { ...VISITS_OFF }
  }

  async start (): Promise<void> {
    await this.#visitors?.start(this.#log.log)
  }

  async close (): Promise<void> {
    await this.settled()
    await this.#visitors?.close()
  }
}
