import ipaddr from 'ipaddr.js'
import { PUBLISHED_RANGES, type PublishedRanges } from './data/ranges.js'

/**
 * One published list as sorted, merged, disjoint ranges: IPv4 as 32-bit numbers, IPv6 as BigInt.
 * A lookup is a binary search (log2 of a few hundred ranges: under ten steps). Hand-written rather
 * than node's `net.BlockList`, which checks its rules one after another (Google's user-triggered
 * list alone is 1 056 of them) behind a call into C++ per check.
 */
export interface RangeSet {
  readonly v4Starts: Float64Array
  readonly v4Ends: Float64Array
  readonly v6Starts: readonly bigint[]
  readonly v6Ends: readonly bigint[]
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** An IPv4 address as a number, or -1 when `text` is not one. */
export function ipv4Number (text: string): number {
  const m = V4.exec(text)
  if (m === null) return -1
  let value = 0
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i])
    if (octet > 255) return -1
    value = value * 256 + octet
  }
  return value
}

/** An IPv6 address as a BigInt, or -1n when `text` is not one. IPv4-mapped addresses are the caller's. */
export function ipv6BigInt (text: string): bigint {
  if (!ipaddr.IPv6.isValid(text)) return -1n
  let value = 0n
  for (const part of ipaddr.IPv6.parse(text).parts) value = (value << 16n) | BigInt(part)
  return value
}

function merge<T extends number | bigint> (ranges: Array<[T, T]>): Array<[T, T]> {
  ranges.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
  const merged: Array<[T, T]> = []
  for (const range of ranges) {
    const last = merged[merged.length - 1]
    // Adjacent or overlapping ranges become one (the lists overlap: OpenAI's share /25s).
    if (last !== undefined && range[0] <= (typeof last[1] === 'bigint' ? (last[1] as bigint) + 1n : (last[1] as number) + 1)) {
      if (range[1] > last[1]) last[1] = range[1]
    } else {
      merged.push([range[0], range[1]])
    }
  }
  return merged
}

/** Parses one list; a CIDR that does not parse is left out (the refresh script checked their shape). */
export function rangeSet (list: Pick<PublishedRanges, 'v4' | 'v6'>): RangeSet {
  const v4: Array<[number, number]> = []
  for (const cidr of list.v4.split(' ')) {
    const [address, bits] = cidr.split('/')
    const start = ipv4Number(address)
    const prefix = Number(bits)
    if (start === -1 || !(prefix >= 0 && prefix <= 32)) continue
    const size = 2 ** (32 - prefix)
    const first = start - (start % size)
    v4.push([first, first + size - 1])
  }
  const v6: Array<[bigint, bigint]> = []
  for (const cidr of list.v6.split(' ')) {
    const [address, bits] = cidr.split('/')
    const start = ipv6BigInt(address ?? '')
    const prefix = Number(bits)
    if (start === -1n || !(prefix >= 0 && prefix <= 128)) continue
    const host = (1n << BigInt(128 - prefix)) - 1n
    const first = start & ~host
    v6.push([first, first | host])
  }
  const m4 = merge(v4)
  const m6 = merge(v6)
  return {
    v4Starts: Float64Array.from(m4, (r) => r[0]),
    v4Ends: Float64Array.from(m4, (r) => r[1]),
    v6Starts: m6.map((r) => r[0]),
    v6Ends: m6.map((r) => r[1])
  }
}

/** The index of the last start ≤ value, or -1. */
function lastAtOrBelow<T extends number | bigint> (starts: ArrayLike<T>, value: T): number {
  let low = 0
  let high = starts.length - 1
  let found = -1
  while (low <= high) {
    const mid = (low + high) >>> 1
    if (starts[mid] <= value) {
      found = mid
      low = mid + 1
    } else {
      high = mid - 1
    }
  }
  return found
}

/** A parsed client address: `v4` ≥ 0 for IPv4 (and IPv4-mapped IPv6), else `v6` ≥ 0n; both negative: not an address. */
export interface ParsedIp { v4: number, v6: bigint }

export function parseIp (ip: string): ParsedIp {
  const v4 = ipv4Number(ip)
  if (v4 !== -1) return { v4, v6: -1n }
  if (!ip.includes(':')) return { v4: -1, v6: -1n }
  // `::ffff:66.249.66.1`: an IPv4 client on a dual-stack socket.
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(ip)
  if (mapped !== null) return { v4: ipv4Number(mapped[1]), v6: -1n }
  return { v4: -1, v6: ipv6BigInt(ip) }
}

export function inRangeSet (set: RangeSet, ip: ParsedIp): boolean {
  if (ip.v4 >= 0) {
    const at = lastAtOrBelow(set.v4Starts, ip.v4)
    return at !== -1 && ip.v4 <= set.v4Ends[at]
  }
  if (ip.v6 >= 0n) {
    const at = lastAtOrBelow(set.v6Starts, ip.v6)
    return at !== -1 && ip.v6 <= set.v6Ends[at]
  }
  return false
}

let parsed: Map<string, RangeSet> | undefined

/** The vendored lists by key, parsed at the first verification (a few hundred CIDRs: about a millisecond). */
export function vendoredRanges (): ReadonlyMap<string, RangeSet> {
  if (parsed === undefined) {
    parsed = new Map()
    for (const list of PUBLISHED_RANGES) parsed.set(list.key, rangeSet(list))
  }
  return parsed
}
