import { isIPv4, isIPv6 } from 'node:net'

// Placeholder for the privacy issue's module, with exactly its API: that branch's version replaces
// this file at merge. Behaviour here: 'truncate' zeroes the last IPv4 octet and keeps an IPv6
// address's first 48 bits; anything that is not an IP is dropped.

/** How much of a client IP a collector keeps. */
export type IpPolicy = 'full' | 'truncate' | 'none'

export function applyIpPolicy (ip: string, policy: IpPolicy): string {
  if (policy === 'full') return ip
  if (policy === 'none' || ip === '') return ''
  if (isIPv4(ip)) return ip.slice(0, ip.lastIndexOf('.')) + '.0'
  if (isIPv6(ip)) {
    const head = ip.split('::')[0].split(':').slice(0, 3)
    while (head.length < 3) head.push('0')
    return `${head.map((group) => group === '' ? '0' : group).join(':')}::`
  }
  return ''
}
