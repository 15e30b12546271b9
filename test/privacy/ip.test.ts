import { test } from 'tap'
import fc from 'fast-check'
import { applyIpPolicy } from '../../lib/index.js'
import { isTruncated } from '../servers/privacy-rules.js'

test('truncate keeps the IPv4 /24 and the IPv6 /48; full keeps the address; none sends nothing', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['203.0.113.77', '203.0.113.77', '203.0.113.0'],
    ['2001:db8:abcd:12:3:4:5:6', '2001:db8:abcd:12:3:4:5:6', '2001:db8:abcd::'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::'],
    ['::ffff:198.51.100.9', '::ffff:198.51.100.9', '198.51.100.0'],
    ['fe80::1%eth0', 'fe80::1%eth0', 'fe80::'],
    ['::1', '::1', '::']
  ]
  for (const [ip, full, truncated] of cases) {
    t.equal(applyIpPolicy(ip, 'full'), full, `${ip} full`)
    t.equal(applyIpPolicy(ip, 'truncate'), truncated, `${ip} truncate`)
    t.equal(applyIpPolicy(ip, 'none'), '', `${ip} none`)
  }
})

test('anything that is not an IP becomes empty under every policy, never an exception', async (t) => {
  for (const bad of ['', 'unknown', '127.1', '0x7f.0.0.1', '1.2.3.4.5', '203.0.113.7, 10.0.0.1', ' 1.2.3.4', '::g', undefined as unknown as string]) {
    for (const policy of ['full', 'truncate', 'none'] as const) t.equal(applyIpPolicy(bad, policy), '', `${JSON.stringify(bad)} ${policy}`)
  }
  fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), (ip) => {
    const truncated = applyIpPolicy(ip, 'truncate')
    return truncated === '' || isTruncated(truncated)
  }), { numRuns: 1000 })
})
