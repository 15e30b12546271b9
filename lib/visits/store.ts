import { randomBytes, randomUUID } from 'node:crypto'
import type { Attribution } from '../attribution/types.js'
import type { Visit } from '../event.js'
import type { Logger } from '../log.js'

/** A UTC day: `Math.floor(ms / DAY_MS)`. Salts rotate at its start. */
export const DAY_MS = 86_400_000
/** Bytes of random salt per UTC day. */
export const SALT_BYTES = 32
/**
 * Visitors whose current visit the in-memory store remembers; beyond it the least recently seen is
 * forgotten (counted in `stats().visits.evictions`): its next event starts a new visit. Measured at
 * about 0.5 kB per visitor on Node 20 (bench/visits-memory.js), so the cap holds ~50 MB at most.
 */
export const DEFAULT_MAX_VISITORS = 100_000

/** Today's salt and yesterday's (undefined when none was made yesterday). Secret: never log them. */
export interface Salts {
  today: Uint8Array
  yesterday: Uint8Array | undefined
}

/** One event's question to a visit store: continue the visitor's visit, or start one. */
export interface VisitHit {
  /** Today's visitor id. */
  visitorId: string
  /**
   * The same visitor's id under yesterday's salt, or '' when a visit from yesterday cannot still be
   * running: a visit that crosses midnight is found under it and continues under today's id.
   */
  previousVisitorId: string
  /** The event's time (ms). */
  atMs: number
  /** A gap of this long (or more) without an event ends a visit. */
  timeoutMs: number
  /** What the request says about where the visitor came from: a value other than Direct that differs from the visit's starts a new visit. */
  attribution: Readonly<Attribution>
  /** The event's path (privacy rules applied): the landing path when a visit starts. */
  landingPath: string
}

/**
 * Where visits and daily salts live. The default keeps them in this process's memory;
 * `redisVisitStore()` (from `fastify-analytics/redis`) shares them between instances of the app, so a
 * visitor whose requests reach several instances is one visitor with one visit.
 *
 * Both methods may answer synchronously (the in-memory store: no promise per event) or with a
 * promise (a shared store): the event then waits for the answer, at most `timeoutMs`, after which
 * the plugin answers from memory and counts a fallback. Neither is ever called twice concurrently
 * for `salts` of one day by the plugin.
 */
export interface VisitStore {
  /** Shown in `stats().visits.store` and in logs: `'memory'`, `'redis'`. */
  readonly kind: string
  /** How long an event waits for an asynchronous answer before memory answers instead. */
  readonly timeoutMs?: number
  /** Called once when the app starts (connect here; never reject: a store that is down is a fallback, not a failed start). */
  start?: (log: Logger) => void | Promise<void>
  /**
   * The salts of UTC day `day` (creating today's when missing, the same for every instance) and of
   * the day before; salts of earlier days are deleted (so none outlives 48 hours).
   */
  salts: (day: number) => Salts | Promise<Salts>
  /** Continues the visitor's visit (found under today's id, else yesterday's) or starts a new one. */
  visit: (hit: VisitHit) => Readonly<Visit> | Promise<Readonly<Visit>>
  /** Called once when the app closes, after every event has its visit. */
  close?: () => Promise<void>
}

/** A visit as the rules start it: a fresh id, the hit's time, path and attribution. */
export function startVisit (hit: VisitHit, id: string = randomUUID()): Readonly<Visit> {
  const a = hit.attribution
  return Object.freeze({
    id,
    startedAt: new Date(hit.atMs),
    landingPath: hit.landingPath,
    channel: a.channel,
    source: a.source,
    medium: a.medium,
    campaign: a.campaign,
    term: a.term,
    content: a.content,
    clickId: a.clickId
  })
}

/**
 * GA4's rule, which Pirsch follows too: a request that names where it came from (a campaign, a
 * click id, an external referrer) and names somewhere else than the visit did starts a new visit;
 * Direct (no campaign, no referrer, or a referrer on the same site) never does.
 */
export function continues (visit: Readonly<Attribution>, arrival: Readonly<Attribution>): boolean {
  if (arrival.channel === 'Direct' && arrival.source === '(direct)') return true
  return visit.source === arrival.source && visit.medium === arrival.medium && visit.campaign === arrival.campaign &&
    visit.term === arrival.term && visit.content === arrival.content && visit.clickId === arrival.clickId
}

interface VisitRecord {
  visit: Readonly<Visit>
  lastMs: number
}

/**
 * The default store: visits and salts in this process's memory, synchronous. A Map kept in
 * least-recently-seen order bounds it: inserting beyond `max` forgets the stalest visitor, and each
 * insert also drops up to two visitors whose visit has timed out, so the count follows the active ones.
 */
export class MemoryVisitStore implements VisitStore {
  readonly kind = 'memory'
  readonly #visits = new Map<string, VisitRecord>()
  readonly #salts = new Map<number, Uint8Array>()
  readonly #max: number
  /** Visitors forgotten before their visit timed out, to stay within the cap. */
  evictions = 0

  constructor (max: number = DEFAULT_MAX_VISITORS) {
    this.#max = max
  }

  /** Visitors held (active, and timed out but not yet dropped). */
  get size (): number {
    return this.#visits.size
  }

  /** Salt days held: two at most once a day has turned. */
  get saltDays (): number {
    return this.#salts.size
  }

  salts (day: number): Salts {
    const salts = this.#salts
    let today = salts.get(day)
    if (today === undefined) {
      today = randomBytes(SALT_BYTES)
      salts.set(day, today)
    }
    for (const held of salts.keys()) if (held < day - 1) salts.delete(held)
    return { today, yesterday: salts.get(day - 1) }
  }

  /** Adopts salts a shared store gave, so a fallback keeps the ids the other instances compute. */
  adoptSalts (day: number, salts: Salts): void {
    this.#salts.set(day, salts.today)
    if (salts.yesterday !== undefined) this.#salts.set(day - 1, salts.yesterday)
    for (const held of this.#salts.keys()) if (held < day - 1) this.#salts.delete(held)
  }

  visit (hit: VisitHit): Readonly<Visit> {
    const visits = this.#visits
    const id = hit.visitorId
    let record = visits.get(id)
    if (record === undefined && hit.previousVisitorId !== '') {
      record = visits.get(hit.previousVisitorId)
      // Across midnight: the visit moves to today's id.
      if (record !== undefined) visits.delete(hit.previousVisitorId)
    } else if (record !== undefined) {
      // Re-inserted below: the Map stays in least-recently-seen order, so eviction takes the stalest.
      visits.delete(id)
    }
    if (record === undefined) {
      record = { visit: startVisit(hit), lastMs: hit.atMs }
      this.#insert(id, record, hit.atMs, hit.timeoutMs)
      return record.visit
    }
    // An event older than the last one (requests finish out of order) is a gap of zero.
    if (hit.atMs - record.lastMs < hit.timeoutMs && continues(record.visit, hit.attribution)) {
      if (hit.atMs > record.lastMs) record.lastMs = hit.atMs
    } else {
      record.visit = startVisit(hit)
      record.lastMs = hit.atMs
    }
    visits.set(id, record)
    return record.visit
  }

  /** Takes in what a shared store answered, so a fallback continues the same visit. */
  record (visitorId: string, visit: Readonly<Visit>, atMs: number, timeoutMs: number): void {
    const record = this.#visits.get(visitorId)
    if (record === undefined) {
      this.#insert(visitorId, { visit, lastMs: atMs }, atMs, timeoutMs)
      return
    }
    record.visit = visit
    if (atMs > record.lastMs) record.lastMs = atMs
    this.#visits.delete(visitorId)
    this.#visits.set(visitorId, record)
  }

  #insert (id: string, record: VisitRecord, nowMs: number, timeoutMs: number): void {
    const visits = this.#visits
    // Bounded work per insert: at most three of the stalest entries looked at.
    for (let i = 0; i < 3; i++) {
      const oldest = visits.entries().next()
      if (oldest.done === true) break
      const [key, stalest] = oldest.value
      const expired = nowMs - stalest.lastMs >= timeoutMs
      if (!expired && visits.size < this.#max) break
      visits.delete(key)
      if (!expired) this.evictions++
    }
    visits.set(id, record)
  }
}
