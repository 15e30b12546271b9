import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

/**
 * What a collector sends of the visitor's IP: `'full'` as Fastify resolved it, `'truncate'` its
 * network only (IPv4 /24, IPv6 /48: the precision of a city, not of a household), `'none'` nothing.
 */
export type IpPolicy = 'full' | 'truncate' | 'none'

export const IP_POLICIES: readonly IpPolicy[] = Object.freeze(['full', 'truncate', 'none'])

export function isIpPolicy (value: unknown): value is IpPolicy {
  return value === 'full' || value === 'truncate' || value === 'none'
}

/** Bits kept by `'truncate'`: the /24 and /48 that GA4's and Matomo's IP anonymisation keep. */
export const IPV4_PREFIX_BITS = 24
export const IPV6_PREFIX_BITS = 48

/**
 * The IP a sink may receive under `policy`; '' for anything that is not an IP address.
 * Validation is node's `isIP` (strict dotted quads): ipaddr.js alone also accepts classful forms
 * such as `127.1` that no collector should pass on. An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`,
 * what a dual-stack socket reports) is truncated as the IPv4 address it is.
 */
export function applyIpPolicy (ip: string, policy: IpPolicy): string {
  if (policy === 'none' || typeof ip !== 'string') return ''
  const family = isIP(ip)
  if (family === 0) return ''
  if (policy === 'full') return ip
  // isIP accepted a strict dotted quad: its /24 is a string operation (ipaddr.js parsing costs ~1.5 µs).
  if (family === 4) return `${ip.slice(0, ip.lastIndexOf('.'))}.0`
  let truncated = ipv6Cache.get(ip)
  if (truncated === undefined) {
    truncated = truncateIpv6(ip)
    // Clearing beats LRU bookkeeping: a miss costs one parse.
    if (ipv6Cache.size >= IPV6_CACHE_SIZE) ipv6Cache.clear()
    ipv6Cache.set(ip, truncated)
  }
  return truncated
}

/** IPv6 addresses whose truncation is remembered: parsing one costs several µs, a lookup ~0.1. */
const IPV6_CACHE_SIZE = 1024
const ipv6Cache = new Map<string, string>()

function truncateIpv6 (ip: string): string {
  const address = ipaddr.process(withoutZone(ip))
  if (address.kind() === 'ipv4') {
    const octets = (address as ipaddr.IPv4).octets
    return `${octets[0]}.${octets[1]}.${octets[2]}.0`
  }
  const parts = (address as ipaddr.IPv6).parts.slice(0, IPV6_PREFIX_BITS / 16)
  while (parts.length < 8) parts.push(0)
  return new ipaddr.IPv6(parts).toRFC5952String()
}

/**
 * An IPv6 address without its zone (`fe80::1%eth0` → `fe80::1`): the zone names an interface of
 * this host, identifies nothing outside it, and makes the address invalid for the destinations
 * that check (GA4's `ip_override`, Plausible's `X-Forwarded-For`). Events never carry one.
 */
export function withoutZone (ip: string): string {
  const zone = ip.indexOf('%')
  return zone === -1 ? ip : ip.slice(0, zone)
}
