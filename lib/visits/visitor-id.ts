import { createHmac } from 'node:crypto'
import type { Salts } from './store.js'

/** Hex characters of a visitor id: 128 bits of an HMAC-SHA256. */
export const VISITOR_ID_LENGTH = 32
/**
 * Distinct (host, IP, user agent) triples whose ids are remembered for the day. A hit costs a Map
 * lookup (a fraction of a µs) instead of an HMAC (2–11 µs); each entry holds its key (~200 bytes
 * with a common user agent) and the ids, so the cache is ~3 MB when full. Two generations of half
 * each, as in MemoryVisitStore (and for its reason): the older half is dropped when the newer fills.
 */
export const DEFAULT_ID_CACHE_SIZE = 10_000
/** Keys longer than this (a hostile user agent) are hashed every time, never cached. */
const MAX_CACHED_KEY_LENGTH = 1024

/** A visitor's id today and, near midnight, under yesterday's salt. */
export interface VisitorIds {
  id: string
  /** '' unless the ids were made early in the day, when yesterday's visit may still be running. */
  previous: string
}

/**
 * HMAC-SHA256 keyed by the day's salt over host, IP and user agent, cut to 128 bits (hex). HMAC,
 * not a bare hash of salt and data: the salt is the key, the data cannot be shifted into it. The IP
 * cannot be recovered without the salt, and the salt is deleted after 48 hours.
 */
export function visitorId (salt: Uint8Array, host: string, ip: string, userAgent: string): string {
  // NUL separators: none of the three can contain one after Node's header parsing and truncation.
  // toString of the first 16 bytes, not slice() of the hex: a slice keeps the 64-character parent
  // alive for as long as the id is held (the visit store's key).
  return createHmac('sha256', salt).update(`${host}\0${ip}\0${userAgent}`).digest().toString('hex', 0, VISITOR_ID_LENGTH / 2)
}

/** Ids for one UTC day, memoised per (host, IP, user agent). */
export class VisitorIdCache {
  #ids = new Map<string, VisitorIds>()
  #older = new Map<string, VisitorIds>()
  readonly #generation: number
  #salts: Salts | undefined
  #day = Number.NaN

  constructor (size: number = DEFAULT_ID_CACHE_SIZE) {
    this.#generation = Math.max(1, Math.floor(size / 2))
  }

  get day (): number {
    return this.#day
  }

  get size (): number {
    return this.#ids.size + this.#older.size
  }

  /** A new day's salts: every remembered id belonged to the old ones. */
  useSalts (day: number, salts: Salts): void {
    this.#day = day
    this.#salts = salts
    this.#ids = new Map()
    this.#older = new Map()
  }

  /**
   * The visitor's ids under the current salts. `withPrevious`: also under yesterday's (asked only
   * in the first visit timeout of the day, when a visit from yesterday may still be running).
   */
  ids (host: string, ip: string, userAgent: string, withPrevious: boolean): VisitorIds {
    const salts = this.#salts as Salts
    const key = `${host}\n${ip}\n${userAgent}`
    const cacheable = key.length <= MAX_CACHED_KEY_LENGTH
    const current = cacheable ? this.#ids.get(key) : undefined
    let ids = current ?? (cacheable ? this.#older.get(key) : undefined)
    if (ids === undefined || (ids.previous === '' && withPrevious && salts.yesterday !== undefined)) {
      const yesterday = withPrevious && salts.yesterday !== undefined ? visitorId(salts.yesterday, host, ip, userAgent) : ''
      ids = { id: ids?.id ?? visitorId(salts.today, host, ip, userAgent), previous: yesterday }
    } else if (current === ids) {
      return ids
    }
    // New, recomputed, or found in the older generation: kept in the current one, so a visitor
    // seen in every generation is never hashed again.
    if (cacheable) {
      if (this.#ids.size >= this.#generation) {
        this.#older = this.#ids
        this.#ids = new Map()
      }
      this.#ids.set(key, ids)
    }
    return ids
  }
}
