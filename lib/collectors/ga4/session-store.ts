import type { Logger, RateLimitedLog } from '../../log.js'
import type { Ga4Item } from './payload.js'
import { MAX_TRACKED_SESSIONS, SessionTracker } from './session.js'

/** How long a batch waits for a store that does not say (`Ga4SessionStore.timeoutMs`). */
export const DEFAULT_STORE_TIMEOUT_MS = 1000

/** One visitor's events in a batch: their times, in the order the events were queued. */
export interface SessionLookup {
  clientId: string
  atMs: readonly number[]
  /**
   * The session this instance last saw for the visitor (from an earlier answer, or kept in memory
   * while the store was failing). A store that has no record of the visitor (a restarted Redis, an
   * expired key) continues it rather than starting a second session; a store that has one ignores it.
   */
  known: { id: number, lastMs: number } | undefined
}

/** One batch's question to a session store. */
export interface SessionQuery {
  /** Keeps sessions of different GA4 streams apart in a shared store: the measurement id. */
  scope: string
  /** A session ends after this long without an event (the collector's `sessionTimeoutMs`). */
  timeoutMs: number
  /** The collector's clock when the batch was prepared (keys expire relative to it). */
  nowMs: number
  lookups: readonly SessionLookup[]
}

/**
 * Where the GA4 collector keeps session ids of visitors that have no `_ga_<stream>` cookie. It is
 * asked once per batch, off the request path. Rules, the same in every store: a session starts at a
 * visitor's first event, its id is that event's Unix second, and it ends after `timeoutMs` without
 * events; an event older than the visitor's latest one (late, or out of order) joins the current
 * session. A store shared by every instance of the app (`redisSessionStore`) gives one session per
 * visitor however the load balancer spreads their requests.
 */
export interface Ga4SessionStore {
  /** Shown in logs and `sessionStats()`: `'redis'`, say. */
  readonly kind: string
  /** A batch waits this long for `sessionIds`, then resolves in memory. Default 1000 ms. */
  readonly timeoutMs?: number
  /** Called once when the collector starts (connect here; never throw: a store that is down is a fallback, not a failed start). */
  start?: (log: Logger) => void | Promise<void>
  /**
   * The session id of every time of every lookup, in the same shape. Rejecting (or not answering
   * within the store's own timeout) makes the collector resolve that batch in memory instead.
   */
  sessionIds: (query: SessionQuery) => Promise<number[][]>
  /** Called once, after the collector has delivered or dropped everything. */
  close?: () => Promise<void>
}

/** What the collector counts about sessions (`Ga4Collector.sessionStats()`). */
export interface Ga4SessionStats {
  /** `'memory'` or the shared store's kind. */
  store: string
  /** Batches whose sessions the shared store resolved. */
  storeBatches: number
  /** Batches resolved in memory because the shared store failed or did not answer in time. */
  fallbackBatches: number
  /** Events whose session came from the in-memory fallback. */
  fallbackEvents: number
  /** Visitors the in-memory sessions forgot to stay within their bound (10 000): each starts a new session. */
  evictions: number
}

/** The in-memory sessions, as a lookup over a batch (the default, and every shared store's fallback). */
export class MemorySessions {
  readonly #tracker: SessionTracker

  constructor (timeoutMs: number, max: number = MAX_TRACKED_SESSIONS) {
    this.#tracker = new SessionTracker(max, timeoutMs)
  }

  get evictions (): number {
    return this.#tracker.evictions
  }

  known (clientId: string): { id: number, lastMs: number } | undefined {
    const session = this.#tracker.peek(clientId)
    return session === undefined ? undefined : { id: session.id, lastMs: session.lastMs }
  }

  resolve (lookups: readonly SessionLookup[]): number[][] {
    const tracker = this.#tracker
    return lookups.map(({ clientId, atMs }) => atMs.map((at) => tracker.sessionId(clientId, at)))
  }

  /** Mirrors what a shared store answered, so a fallback continues the same sessions. */
  record (lookups: readonly SessionLookup[], ids: readonly number[][]): void {
    for (let i = 0; i < lookups.length; i++) {
      const { clientId, atMs } = lookups[i]
      const last = ids[i].length - 1
      if (last < 0) continue
      let lastMs = atMs[0]
      for (const at of atMs) if (at > lastMs) lastMs = at
      this.#tracker.record(clientId, ids[i][last], lastMs)
    }
  }
}

/**
 * Fills in the session ids of a batch's events that came without a `_ga_<stream>` cookie: from the
 * shared store when there is one (one call per batch), from memory otherwise or when the store fails.
 * Never rejects: a failing store costs session continuity across instances, never an event.
 */
export class SessionResolver {
  readonly #memory: MemorySessions
  readonly #store: Ga4SessionStore | undefined
  readonly #scope: string
  readonly #timeoutMs: number
  readonly #waitMs: number
  readonly #log: RateLimitedLog
  #storeBatches = 0
  #fallbackBatches = 0
  #fallbackEvents = 0
  #failing = false
  #recoveryLoggedAt = 0

  constructor (store: Ga4SessionStore | undefined, scope: string, timeoutMs: number, log: RateLimitedLog) {
    this.#memory = new MemorySessions(timeoutMs)
    this.#store = store
    this.#scope = scope
    this.#timeoutMs = timeoutMs
    const wait = store?.timeoutMs
    this.#waitMs = typeof wait === 'number' && wait > 0 ? wait : DEFAULT_STORE_TIMEOUT_MS
    this.#log = log
  }

  get store (): Ga4SessionStore | undefined {
    return this.#store
  }

  stats (): Ga4SessionStats {
    return {
      store: this.#store?.kind ?? 'memory',
      storeBatches: this.#storeBatches,
      fallbackBatches: this.#fallbackBatches,
      fallbackEvents: this.#fallbackEvents,
      evictions: this.#memory.evictions
    }
  }

  /** Synchronous (undefined) with memory only; otherwise a promise that always resolves. */
  fill (items: readonly Ga4Item[]): Promise<void> | undefined {
    const byClient = new Map<string, Ga4Item[]>()
    for (const item of items) {
      if (!item.sessionPending) continue
      const group = byClient.get(item.clientId)
      if (group === undefined) byClient.set(item.clientId, [item])
      else group.push(item)
    }
    if (byClient.size === 0) return undefined
    const groups = [...byClient.values()]
    if (this.#store === undefined) {
      const lookups: SessionLookup[] = groups.map((group) => ({ clientId: group[0].clientId, atMs: group.map((item) => item.atMs), known: undefined }))
      apply(groups, this.#memory.resolve(lookups))
      return undefined
    }
    const memory = this.#memory
    const lookups: SessionLookup[] = groups.map((group) => {
      const clientId = group[0].clientId
      return { clientId, atMs: group.map((item) => item.atMs), known: memory.known(clientId) }
    })
    return this.#ask(this.#store, lookups, items.length).then((ids) => apply(groups, ids))
  }

  async #ask (store: Ga4SessionStore, lookups: SessionLookup[], events: number): Promise<number[][]> {
    let timer: NodeJS.Timeout | undefined
    try {
      const query: SessionQuery = { scope: this.#scope, timeoutMs: this.#timeoutMs, nowMs: Date.now(), lookups }
      const ids = await Promise.race([
        // Inside then(): a store that throws instead of rejecting still falls back.
        Promise.resolve().then(() => store.sessionIds(query)),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(reject, this.#waitMs, new Error(`no answer within ${this.#waitMs} ms`))
          timer.unref()
        })
      ])
      if (!fits(ids, lookups)) throw new Error('the store answered with a different number of session ids')
      this.#storeBatches++
      this.#memory.record(lookups, ids)
      if (this.#failing) {
        this.#failing = false
        const now = Date.now()
        if (now - this.#recoveryLoggedAt >= 10_000) {
          this.#recoveryLoggedAt = now
          this.#log.log.info({ store: store.kind }, 'GA4 session store answers again; sessions are shared again')
        }
      }
      return ids
    } catch (error) {
      this.#failing = true
      this.#fallbackBatches++
      this.#fallbackEvents += events
      this.#log.warn('session-store', { store: store.kind, error: error instanceof Error ? error.message : String(error) },
        'GA4 session store failed; sessions come from this instance\'s memory until it answers')
      return this.#memory.resolve(lookups)
    } finally {
      clearTimeout(timer)
    }
  }
}

function fits (ids: unknown, lookups: readonly SessionLookup[]): ids is number[][] {
  if (!Array.isArray(ids) || ids.length !== lookups.length) return false
  for (let i = 0; i < ids.length; i++) {
    const row: unknown = ids[i]
    if (!Array.isArray(row) || row.length !== lookups[i].atMs.length) return false
    for (const id of row) if (!Number.isSafeInteger(id) || (id as number) < 1) return false
  }
  return true
}

function apply (groups: readonly Ga4Item[][], ids: readonly number[][]): void {
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g]
    for (let i = 0; i < group.length; i++) {
      group[i].event.params.session_id = ids[g][i]
      group[i].sessionPending = false
    }
  }
}
