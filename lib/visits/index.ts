import { attribute, DIRECT, type Attribution } from '../attribution/index.js'
import type { AnalyticsEvent, Visit } from '../event.js'
import { RateLimitedLog, type Logger } from '../log.js'
import { redactEmails } from '../privacy/email.js'
import type { RequestFacts } from '../pipeline/facts.js'
import { errorText } from '../util.js'
import { DAY_MS, MemoryVisitStore, type Salts, type VisitHit, type VisitStore } from './store.js'
import { VisitorIdCache } from './visitor-id.js'

export { DAY_MS, DEFAULT_MAX_VISITORS, MemoryVisitStore, SALT_BYTES, continues, startVisit } from './store.js'
export type { Salts, VisitHit, VisitStore } from './store.js'
export { VISITOR_ID_LENGTH, visitorId } from './visitor-id.js'
export { CountryResolver, type GeoSettings } from './country.js'

/** GA4's, Plausible's and Matomo's: 30 minutes without an event end a visit. */
export const DEFAULT_VISIT_TIMEOUT_MS = 30 * 60_000
/** The shortest visit timeout accepted (for tests; real visits are minutes long). */
export const MIN_VISIT_TIMEOUT_MS = 1000
/** How long an event waits for a store that does not say (`VisitStore.timeoutMs`). */
export const DEFAULT_STORE_WAIT_MS = 1000
/**
 * Events waiting for an asynchronous store at once; beyond it they are answered from memory
 * (counted in `stats().visits.fallbacks`), so a slow store cannot pile up events and their requests.
 */
export const MAX_PENDING_VISITS = 10_000
/** After the shared store failed to give the day's salts, it is asked again this long later. */
export const SALT_RETRY_MS = 10_000

/**
 * Tests move the clock with this option key (`visits: { [VISITS_CLOCK]: () => ms }`): a symbol, so it
 * is not part of the documented options and `normalizeOptions` (which lists string keys) never sees it.
 */
export const VISITS_CLOCK = Symbol.for('fastify-analytics.visitsClock')

/** Plugin option `visits`, normalised. */
export interface VisitSettings {
  timeoutMs: number
  /** A shared store; undefined: memory only. */
  store: VisitStore | undefined
  clock: () => number
}

/** `stats().visits`. */
export interface VisitStats {
  /** `'memory'`, the shared store's kind (`'redis'`), or `'off'` with `visits: false`. */
  store: string
  /** Visitors whose visit this process holds in memory (with a shared store: its fallback copy). */
  visitors: number
  /** Visitors forgotten before their visit timed out, to stay within the in-memory cap. */
  evictions: number
  /** Events (or salt look-ups) the shared store failed, did not answer in time, or had no room for: answered from memory. */
  fallbacks: number
}

export const VISITS_OFF: Readonly<VisitStats> = Object.freeze({ store: 'off', visitors: 0, evictions: 0, fallbacks: 0 })

function isThenable<T> (value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

function isSalts (value: unknown): value is Salts {
  const salts = value as Partial<Salts> | null
  return salts !== null && typeof salts === 'object' && salts.today instanceof Uint8Array && salts.today.length > 0 &&
    (salts.yesterday === undefined || salts.yesterday instanceof Uint8Array)
}

function isVisit (value: unknown): value is Readonly<Visit> {
  const visit = value as Partial<Visit> | null
  return visit !== null && typeof visit === 'object' && typeof visit.id === 'string' && visit.startedAt instanceof Date &&
    typeof visit.landingPath === 'string' && typeof visit.channel === 'string' && typeof visit.source === 'string'
}

/**
 * Gives request events their visitor id and visit: on the request thread, before the consent's IP
 * truncation and after the privacy rules (so the landing path is the cleaned path), from the raw
 * request URL and Referer (so the campaign parameters the privacy rules drop still count).
 * With the in-memory store everything is synchronous; with a shared store `identify` returns a
 * promise that always resolves (failures fall back to memory, counted and logged).
 */
export class Visitors {
  readonly #timeoutMs: number
  readonly #store: VisitStore | undefined
  readonly #memory = new MemoryVisitStore()
  readonly #ids = new VisitorIdCache()
  readonly #clock: () => number
  readonly #realClock: boolean
  readonly #waitMs: number
  readonly #log: RateLimitedLog
  readonly #redactEmails: boolean
  #fallbacks = 0
  #pending = 0
  #rotating: { day: number, promise: Promise<void> } | undefined
  /** Set while the day's salts are this process's own because the shared store failed to give them. */
  #saltRetryAt = 0

  /** `redactEmails`: the privacy option's, applied to the campaign values as it is to URLs. */
  constructor (settings: VisitSettings, log: RateLimitedLog, redactEmails: boolean) {
    this.#redactEmails = redactEmails
    this.#timeoutMs = settings.timeoutMs
    this.#store = settings.store
    this.#clock = settings.clock
    this.#realClock = settings.clock === Date.now
    const wait = settings.store?.timeoutMs
    this.#waitMs = typeof wait === 'number' && wait > 0 ? wait : DEFAULT_STORE_WAIT_MS
    this.#log = log
  }

  stats (): VisitStats {
    return { store: this.#store?.kind ?? 'memory', visitors: this.#memory.size, evictions: this.#memory.evictions, fallbacks: this.#fallbacks }
  }

  /** Salt days held in memory (two at most): for tests of the 48-hour rule. */
  get saltDays (): number {
    return this.#memory.saltDays
  }

  async start (log: Logger): Promise<void> {
    const store = this.#store
    if (store?.start === undefined) return
    try {
      await store.start(log)
    } catch (error) {
      this.#log.warn('visit-store', { store: store.kind, error: errorText(error) }, 'analytics visit store failed to start; visits come from memory until it answers')
    }
  }

  async close (): Promise<void> {
    const store = this.#store
    try {
      await store?.close?.()
    } catch (error) {
      this.#log.warn('visit-store', { store: store?.kind, error: errorText(error) }, 'analytics visit store failed to close')
    }
  }

  /** Sets `visitorId` and `visit` of a request's event. Never throws; a returned promise never rejects. */
  identify (event: AnalyticsEvent, facts: RequestFacts): Promise<void> | undefined {
    const nowMs = this.#clock()
    // The event's own time (an automatic event's is its request's start), never after now: a
    // tracked event's timestamp is the app's to give. A test clock stands for the event's time.
    const at = event.timestamp.getTime()
    const atMs = this.#realClock && at < nowMs ? at : nowMs
    // The salt's day is today's, whatever time an event claims: a timestamp from another day must
    // not rotate the salts (a future one would delete today's).
    const day = Math.floor(nowMs / DAY_MS)
    if (day !== this.#ids.day || (this.#saltRetryAt !== 0 && nowMs >= this.#saltRetryAt)) {
      const rotating = this.#rotate(day, nowMs)
      if (rotating !== undefined) return rotating.then(() => this.#visit(event, facts, atMs))
    }
    return this.#visit(event, facts, atMs)
  }

  #rotate (day: number, atMs: number): Promise<void> | undefined {
    const store = this.#store
    if (store === undefined) {
      this.#ids.useSalts(day, this.#memory.salts(day))
      return undefined
    }
    if (this.#rotating?.day === day) return this.#rotating.promise
    let answer: Salts | Promise<Salts>
    try {
      answer = store.salts(day)
    } catch (error) {
      this.#saltsFailed(day, atMs, error)
      return undefined
    }
    if (!isThenable(answer)) {
      this.#useSalts(day, atMs, answer)
      return undefined
    }
    const promise = this.#race(answer).then((salts) => this.#useSalts(day, atMs, salts), (error: unknown) => this.#saltsFailed(day, atMs, error))
      .finally(() => { if (this.#rotating?.promise === promise) this.#rotating = undefined })
    this.#rotating = { day, promise }
    return promise
  }

  #useSalts (day: number, atMs: number, salts: unknown): void {
    if (!isSalts(salts)) return this.#saltsFailed(day, atMs, new Error('the store answered something that is not salts'))
    this.#saltRetryAt = 0
    this.#memory.adoptSalts(day, salts)
    this.#ids.useSalts(day, salts)
  }

  #saltsFailed (day: number, atMs: number, error: unknown): void {
    this.#fallback(error)
    // Keep this process's own salts of the day if it already has them (ids stay stable meanwhile).
    if (this.#ids.day !== day) this.#ids.useSalts(day, this.#memory.salts(day))
    this.#saltRetryAt = atMs + SALT_RETRY_MS
  }

  /**
   * The request's attribution, read from the URL before the privacy rules (they would strip the
   * campaign), so its values get the email rule here: `?utm_source=alice%40example.com` must not
   * reach a collector through the visit when the URL itself no longer carries it.
   */
  #attribution (facts: RequestFacts, hostname: string): Readonly<Attribution> {
    const found = attribute(facts.url, facts.referrer, hostname)
    // DIRECT, a returning visitor's every internal page view, has nothing to redact.
    return this.#redactEmails && found !== DIRECT ? withoutEmails(found) : found
  }

  #visit (event: AnalyticsEvent, facts: RequestFacts, atMs: number): Promise<void> | undefined {
    const timeoutMs = this.#timeoutMs
    // A visit from yesterday can still be running only in the first `timeoutMs` of the day.
    const nearMidnight = atMs - this.#ids.day * DAY_MS < timeoutMs
    const ids = this.#ids.ids(event.hostname, event.clientIP, event.userAgent, nearMidnight)
    event.visitorId = ids.id
    const hit: VisitHit = {
      visitorId: ids.id,
      previousVisitorId: ids.previous,
      atMs,
      timeoutMs,
      attribution: this.#attribution(facts, event.hostname),
      landingPath: event.path
    }
    const store = this.#store
    if (store === undefined || this.#pending >= MAX_PENDING_VISITS) {
      if (store !== undefined) this.#fallback(new Error(`${MAX_PENDING_VISITS} events already wait for the store`))
      event.visit = this.#memory.visit(hit)
      return undefined
    }
    let answer: Readonly<Visit> | Promise<Readonly<Visit>>
    try {
      answer = store.visit(hit)
    } catch (error) {
      this.#fallback(error)
      event.visit = this.#memory.visit(hit)
      return undefined
    }
    if (!isThenable(answer)) {
      event.visit = this.#answered(hit, answer)
      return undefined
    }
    this.#pending++
    return this.#race(answer).then((visit) => {
      event.visit = this.#answered(hit, visit)
    }, (error: unknown) => {
      this.#fallback(error)
      event.visit = this.#memory.visit(hit)
    }).finally(() => { this.#pending-- })
  }

  #answered (hit: VisitHit, visit: unknown): Readonly<Visit> {
    if (!isVisit(visit)) {
      this.#fallback(new Error('the store answered something that is not a visit'))
      return this.#memory.visit(hit)
    }
    // Mirrored, so a later fallback continues this visit instead of starting a second one.
    this.#memory.record(hit.visitorId, visit, hit.atMs, hit.timeoutMs)
    return visit
  }

  /** The store's answer, or a rejection after the wait: a store that hangs costs an event at most `waitMs`. */
  #race<T> (answer: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(reject, this.#waitMs, new Error(`no answer within ${this.#waitMs} ms`))
      timer.unref()
    })
    return Promise.race([answer, timeout]).finally(() => clearTimeout(timer))
  }

  #fallback (error: unknown): void {
    this.#fallbacks++
    this.#log.warn('visit-store', { store: this.#store?.kind, error: errorText(error) },
      'analytics visit store failed; visits come from this instance\'s memory until it answers')
  }
}

/** The attribution with email-shaped text in its values replaced; the same object when there is none. */
function withoutEmails (found: Readonly<Attribution>): Readonly<Attribution> {
  const source = redactEmails(found.source)
  const medium = redactEmails(found.medium)
  const campaign = redactEmails(found.campaign)
  const term = redactEmails(found.term)
  const content = redactEmails(found.content)
  if (source === found.source && medium === found.medium && campaign === found.campaign && term === found.term && content === found.content) return found
  return Object.freeze({ ...found, source, medium, campaign, term, content })
}
