import { randomBytes } from 'node:crypto'
import type { Attribution } from '../attribution/types.js'
import type { Visit } from '../event.js'
import { eventId } from '../id.js'
import type { Logger } from '../log.js'

/** A UTC day: `Math.floor(ms / DAY_MS)`. Salts rotate at its start. */
export const DAY_MS = 86_400_000
/** Bytes of random salt per UTC day. */
export const SALT_BYTES = 32
/**
 * Visitors whose current visit the in-memory store remembers at most; beyond it the least recently
 * seen are forgotten (counted in `stats().visits.evictions`): their next event starts a new visit.
 * Memory per visitor measured by bench/visits-memory.js (docs/visitors.md).
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

/**
 * A visit id: a UUIDv7, so visit ids sort by their start (as event ids do) and index well.
 * Flattened: the id is built by concatenation, a tree of ~20 V8 string nodes (~600 bytes) until
 * something flattens it, and a store keeps it for the whole visit. `charCodeAt` flattens it in
 * place (measured: 790 → 371 bytes per visitor held, bench/visits-memory.js).
 */
export function newVisitId (): string {
  const id = eventId()
  id.charCodeAt(0)
  return id
}

/** A visit as the rules start it: a fresh id, the hit's time, path and attribution. */
export function startVisit (hit: VisitHit, id: string = newVisitId()): Readonly<Visit> {
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
 * The default store: visits and salts in this process's memory, synchronous.
 *
 * Bounded by two generations of at most `max / 2` visitors each: a visitor is looked up in the
 * current generation, then the previous one (and moved up when found there); when the current one
 * is full, the previous is dropped (its visitors whose visit had not timed out are counted as
 * evictions) and the current becomes the previous. So at most `max` visitors are held, and at least
 * the `max / 2` most recently seen are kept. Not a Map kept in recency order with its oldest entry
 * deleted per insert: V8 leaves a deleted entry as a hole that every later `keys().next()` walks
 * over until the table is rehashed, measured at ~100 µs per insert at 100 000 entries.
 */
export class MemoryVisitStore implements VisitStore {
  readonly kind = 'memory'
  #current = new Map<string, VisitRecord>()
  #previous = new Map<string, VisitRecord>()
  readonly #salts = new Map<number, Uint8Array>()
  readonly #generation: number
  /** Visitors forgotten before their visit timed out, to stay within the cap. */
  evictions = 0

  constructor (max: number = DEFAULT_MAX_VISITORS) {
    this.#generation = Math.max(1, Math.floor(max / 2))
  }

  /** Visitors held (active, and timed out but not yet dropped): at most `max`. */
  get size (): number {
    return this.#current.size + this.#previous.size
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
    const id = hit.visitorId
    let record = this.#current.get(id)
    if (record === undefined) {
      record = this.#take(id)
      // Across midnight: yesterday's id finds the visit, which moves to today's.
      if (record === undefined && hit.previousVisitorId !== '') record = this.#current.get(hit.previousVisitorId) ?? this.#previous.get(hit.previousVisitorId)
      if (record !== undefined) {
        this.#current.delete(hit.previousVisitorId)
        this.#previous.delete(hit.previousVisitorId)
        this.#put(id, record, hit.atMs, hit.timeoutMs)
      }
    }
    if (record === undefined) {
      record = { visit: startVisit(hit), lastMs: hit.atMs }
      this.#put(id, record, hit.atMs, hit.timeoutMs)
      return record.visit
    }
    // An event older than the last one (requests finish out of order) is a gap of zero.
    if (hit.atMs - record.lastMs < hit.timeoutMs && continues(record.visit, hit.attribution)) {
      if (hit.atMs > record.lastMs) record.lastMs = hit.atMs
    } else {
      record.visit = startVisit(hit)
      record.lastMs = hit.atMs
    }
    return record.visit
  }

  /** Takes in what a shared store answered, so a fallback continues the same visit. */
  record (visitorId: string, visit: Readonly<Visit>, atMs: number, timeoutMs: number): void {
    const record = this.#current.get(visitorId) ?? this.#take(visitorId)
    if (record === undefined) {
      this.#put(visitorId, { visit, lastMs: atMs }, atMs, timeoutMs)
      return
    }
    record.visit = visit
    if (atMs > record.lastMs) record.lastMs = atMs
    if (!this.#current.has(visitorId)) this.#put(visitorId, record, atMs, timeoutMs)
  }

  /** A visitor of the previous generation, taken out of it (the caller puts it in the current one). */
  #take (id: string): VisitRecord | undefined {
    const record = this.#previous.get(id)
    if (record !== undefined) this.#previous.delete(id)
    return record
  }

  #put (id: string, record: VisitRecord, nowMs: number, timeoutMs: number): void {
    if (this.#current.size >= this.#generation) {
      // Once per `max / 2` inserts: the previous generation goes, counted if still visiting.
      for (const dropped of this.#previous.values()) if (nowMs - dropped.lastMs < timeoutMs) this.evictions++
      this.#previous = this.#current
      this.#current = new Map()
    }
    this.#current.set(id, record)
  }
}
