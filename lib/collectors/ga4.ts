import type { AnalyticsEvent } from '../event.js'
import type { CollectorContext } from '../collector.js'
import type { DeliveryAdapter, HttpResponse, OutgoingRequest, PreparedBatch, Verdict } from '../batch/types.js'
import { defaultInterpret } from '../batch/verdict.js'
import { secretValues } from '../http/index.js'
import type { RateLimitedLog } from '../log.js'
import { collectorIp, redactEmails, type IpPolicy } from '../privacy/index.js'
import { errorText } from '../util.js'
import { portableCollector } from './portable.js'
import { EngineCollector } from './engine-collector.js'
import { ClientIdHasher } from './ga4/client-id.js'
import { readGaCookies, sessionCookieName, type GaCookies } from './ga4/cookies.js'
import { collectPath, normalizeGa4Options, type Ga4CollectorOptions } from './ga4/options.js'
import { eventName } from './ga4/names.js'
import { MAX_EVENT_AGE_MS, buildCampaignDetails, buildGa4Event, encodeGa4Batch, ga4WireName, ga4Device, ga4UserId, type Ga4Event, type Ga4Item } from './ga4/payload.js'
import { sessionStart } from './ga4/session.js'
import { interpretGa4DebugResponse } from './ga4/response.js'
import { SessionResolver, type Ga4SessionStats } from './ga4/session-store.js'

export type { Ga4CollectorOptions } from './ga4/options.js'
export type { Ga4SessionStore, Ga4SessionStats, SessionLookup, SessionQuery } from './ga4/session-store.js'
export { GA4_DEFAULTS } from './ga4/options.js'

/** A `clientId` option's answer longer than this is ignored (it would bloat every request). */
const MAX_CUSTOM_CLIENT_ID_LENGTH = 256
const NO_COOKIES: GaCookies = Object.freeze({ clientId: undefined, sessionId: undefined })

/** What the GA4 collector kept back for privacy (`Ga4Collector.privacyStats()`). */
export interface Ga4PrivacyStats {
  /**
   * Events sent without `user_id` because the user id was (or held) an email address: Google's
   * terms forbid sending personally identifiable information. The fix is the plugin's `userId`
   * option, returning an opaque id (the database key) instead.
   */
  emailUserIds: number
}

/**
 * Encodes batches; the path (with the secret) lives here, in a private field, and nowhere else.
 * Session ids are filled in first: one store call per batch, off the request path.
 */
class Ga4Adapter implements DeliveryAdapter<Ga4Item> {
  readonly #path: string
  readonly #sessions: SessionResolver

  constructor (path: string, sessions: SessionResolver) {
    this.#path = path
    this.#sessions = sessions
  }

  prepare (items: Ga4Item[]): PreparedBatch | Promise<PreparedBatch> {
    const pending = this.#sessions.fill(items)
    if (pending === undefined) return encodeGa4Batch(items, this.#path, Date.now())
    return pending.then(() => encodeGa4Batch(items, this.#path, Date.now()))
  }
}

/** Debug mode: the same requests to `/debug/mp/collect`, read by `interpretGa4DebugResponse`. */
class Ga4DebugAdapter extends Ga4Adapter {
  readonly #log: RateLimitedLog
  readonly #secrets: readonly string[]

  constructor (path: string, sessions: SessionResolver, log: RateLimitedLog) {
    super(path, sessions)
    this.#log = log
    this.#secrets = secretValues(path)
  }

  interpret (response: HttpResponse, request: OutgoingRequest): Verdict {
    return interpretGa4DebugResponse(response, request, this.#log, this.#secrets, defaultInterpret)
  }
}

/**
 * Sends events to Google Analytics 4 through the Measurement Protocol. Create it with `ga4Collector()`.
 * The API secret is kept in private fields: it never shows in `util.inspect`, JSON or `stats()`.
 */
export class Ga4Collector extends EngineCollector<Ga4Item> {
  /** The browser's `_ga` cookies stitch server events to gtag.js's client and session. */
  readonly requestHeaders: readonly string[] = ['cookie']
  readonly #hasher: ClientIdHasher
  readonly #sessions: SessionResolver
  readonly #sessionCookie: string
  readonly #ip: IpPolicy
  readonly #clientId: ((event: Readonly<AnalyticsEvent>) => string | undefined) | undefined
  readonly #eventNames: ((event: Readonly<AnalyticsEvent>) => string | null | undefined) | undefined
  #emailUserIds = 0

  constructor (options: Ga4CollectorOptions) {
    const normalized = normalizeGa4Options(options)
    const path = collectPath(normalized.measurementId, normalized.apiSecret, normalized.debug)
    let sessions: SessionResolver | undefined
    // The engine is built in super(): the resolver is made in the adapter factory, which gets the collector's log.
    super(normalized, (log) => {
      sessions = new SessionResolver(normalized.sessions, normalized.measurementId, normalized.sessionTimeoutMs, log)
      return normalized.debug ? new Ga4DebugAdapter(path, sessions, log) : new Ga4Adapter(path, sessions)
    })
    this.#sessions = sessions as unknown as SessionResolver
    this.#hasher = new ClientIdHasher(normalized.apiSecret)
    this.#sessionCookie = sessionCookieName(normalized.measurementId)
    this.#ip = normalized.ip
    this.#clientId = normalized.clientId
    this.#eventNames = normalized.eventNames
  }

  /**
   * The item's strings: its parameters are already cut to GA4's limits (at most 25, values of 100
   * characters, page_location 1000), so this is a few KiB at most, summed over ≤ 25 entries.
   */
  protected override itemBytes (item: Ga4Item): number {
    let bytes = item.clientId.length + item.userId.length + item.ip.length + item.device.length + item.event.name.length
    const params = item.event.params
    for (const key in params) {
      const value = params[key]
      bytes += key.length + (typeof value === 'string' ? value.length : 8)
    }
    return bytes
  }

  /** Snapshots what GA4 needs (never the event or its request) and queues it. No I/O. */
  collect (event: Readonly<AnalyticsEvent>): void {
    const nowMs = Date.now()
    let atMs = event.timestamp.getTime()
    // Also true for an invalid Date (NaN): nothing sensible could be sent for it.
    if (!(nowMs - atMs <= MAX_EVENT_AGE_MS)) {
      this.refuse('too-old', { timestamp: String(event.timestamp) }, 'analytics event older than GA4 accepts (72 h) not sent')
      return
    }
    // GA refuses events from the future; a caller's clock skew should not lose them.
    if (atMs > nowMs) atMs = nowMs
    // An anonymous visitor is not stitched to anything that identifies them across days: not the
    // browser's _ga cookies, not the app's own client id; the derived id rotates daily.
    const anonymous = event.consent === 'anonymous'
    const cookie = anonymous ? undefined : event.requestHeaders.cookie
    const cookies = cookie === undefined ? NO_COOKIES : readGaCookies(cookie, this.#sessionCookie)
    const clientId = (anonymous ? undefined : this.#customClientId(event)) ??
      cookies.clientId ??
      this.#hasher.id(event.clientIP, event.userAgent, event.hostname, atMs)
    // The browser's GA session when its cookie came along (stitches to gtag.js); else the plugin's
    // visit (GA4 sessions and visits are then one and the same); else, for events without a visit
    // (a job's track(), visits: false), the session store when the batch is prepared (0 until then).
    const visit = event.visit
    let sessionId = cookies.sessionId
    let campaign: Ga4Event | undefined
    if (sessionId === undefined && visit !== null) {
      sessionId = sessionStart(visit.startedAt.getTime())
      campaign = this.#announce(visit, event.timestamp.getTime(), sessionId, atMs)
    }
    this.enqueue({
      clientId,
      userId: anonymous ? '' : this.#userId(event.userId),
      ip: collectorIp(event, this.#ip),
      adsDenied: anonymous,
      device: ga4Device(event),
      atMs,
      sessionPending: sessionId === undefined,
      campaign,
      event: buildGa4Event(event, sessionId ?? 0, atMs, ga4WireName(event, this.#mappedName(event)))
    })
  }

  /**
   * A `campaign_details` event before the visit's first event (the one whose time is the visit's
   * start), when the visit has a source: once per visit however many instances send its events.
   */
  #announce (visit: NonNullable<AnalyticsEvent['visit']>, eventMs: number, sessionId: number, atMs: number): Ga4Event | undefined {
    return eventMs === visit.startedAt.getTime() ? buildCampaignDetails(visit, sessionId, atMs) : undefined
  }

  /** Starts delivery, then the session store (bounded by the store itself and the start signal; never fails the start). */
  override async start (signal: AbortSignal, context: CollectorContext): Promise<void> {
    super.start(signal, context)
    const store = this.#sessions.store
    if (store?.start === undefined) return
    try {
      await store.start(context.log)
    } catch (error) {
      this.log.warn('session-store', { error: error instanceof Error ? error.message : String(error) }, 'GA4 session store failed to start; sessions come from memory until it answers')
    }
  }

  /** Closes the delivery first (its last batches still ask the store), then the store. */
  override async close (signal: AbortSignal): Promise<void> {
    await super.close(signal)
    try {
      await this.#sessions.store?.close?.()
    } catch (error) {
      this.log.warn('session-store', { error: error instanceof Error ? error.message : String(error) }, 'GA4 session store failed to close')
    }
  }

  /** Where sessions came from: the shared store, or memory when it failed; and in-memory evictions. */
  sessionStats (): Ga4SessionStats {
    return this.#sessions.stats()
  }

  /** What GA4 kept back for privacy. Counted by this collector where it runs (inline, or the worker). */
  privacyStats (): Ga4PrivacyStats {
    return { emailUserIds: this.#emailUserIds }
  }

  /** `user_id`, unless it is email-shaped (the auth plugin's `request.user.id` often is): then none, counted, logged once. */
  #userId (userId: string): string {
    if (userId === '' || redactEmails(userId) === userId) return ga4UserId(userId)
    if (this.#emailUserIds++ === 0) {
      this.log.log.warn({ collector: this.name }, 'analytics: the user id is an email address, which Google\'s terms forbid sending to GA4: ' +
        'sent without user_id. Fix: give the plugin a userId option that returns an opaque id (userId: (request) => request.user.dbId). ' +
        'Counted in privacyStats().emailUserIds; logged once')
    }
    return ''
  }

  /** The `eventNames` option's name for the event, made valid; undefined for the default (also when it threw). */
  #mappedName (event: Readonly<AnalyticsEvent>): string | undefined {
    const map = this.#eventNames
    if (map === undefined) return undefined
    let name: unknown
    try {
      name = map(event)
    } catch (error) {
      this.log.warn('event-names', { error: errorText(error) }, 'GA4 eventNames option threw; using the default event name')
      return undefined
    }
    if (name === undefined || name === null) return undefined
    const valid = typeof name === 'string' ? eventName(name, '') : ''
    if (valid === '') {
      this.log.warn('event-names-unusable', { type: typeof name }, 'GA4 eventNames option returned no usable name (a string with a letter or digit); using the default event name')
      return undefined
    }
    return valid
  }

  #customClientId (event: Readonly<AnalyticsEvent>): string | undefined {
    const pick = this.#clientId
    if (pick === undefined) return undefined
    let id: unknown
    try {
      id = pick(event)
    } catch (error) {
      this.log.warn('client-id', { error: errorText(error) }, 'GA4 clientId option threw; using the default client id')
      return undefined
    }
    if (id === undefined) return undefined
    if (typeof id !== 'string' || id === '' || id.length > MAX_CUSTOM_CLIENT_ID_LENGTH) {
      this.log.warn('client-id', { type: typeof id }, 'GA4 clientId option returned no usable id (a non-empty string of at most 256 characters); using the default client id')
      return undefined
    }
    return id
  }
}

/**
 * A collector for the GA4 Measurement Protocol. Throws `FST_ANALYTICS_INVALID_OPTION` (naming the
 * option, never quoting the secret) for options that cannot work.
 */
export function ga4Collector (options: Ga4CollectorOptions): Ga4Collector {
  return portableCollector(new Ga4Collector(options), 'collectors/ga4.js', 'ga4Collector', options)
}
