// Verification against the vendored published ranges, and counting, through the plugin.
import { test } from 'tap'
import Fastify from 'fastify'
import analytics, { type CrawlerStats } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { PUBLISHED_RANGES, RANGES_NOT_VENDORED } from '../../lib/crawlers/data/ranges.js'
import { inRangeSet, parseIp, rangeSet } from '../../lib/crawlers/ranges.js'
import { crawlerFor, identifyCrawler } from '../../lib/crawlers/index.js'
import { KNOWN_CRAWLERS } from '../../lib/crawlers/catalogue.js'
import { MAX_REPORTED_CRAWLER_NAMES } from '../../lib/crawlers/tally.js'
import type { TapTest } from '../helpers/collectors.js'

const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
const CHATGPT_USER = 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot'

async function app (t: TapTest, options: Record<string, unknown> = {}, fastify: Record<string, unknown> = {}) {
  const collector = memoryCollector()
  const instance = Fastify(fastify)
  t.teardown(() => instance.close())
  await instance.register(analytics, { bots: 'label', collectors: [collector], ...options })
  instance.get('/', async (_request, reply) => reply.type('text/html').send('<p>home</p>'))
  await instance.ready()
  const visit = async (ua: string, remoteAddress: string, headers: Record<string, string> = {}) => {
    await instance.inject({ method: 'GET', url: '/', headers: { 'user-agent': ua, ...headers }, remoteAddress })
    return collector.events[collector.events.length - 1]?.client.crawler
  }
  return { instance, collector, visit }
}

// An independent, naive reading of a CIDR (BigInt over the address's bits), to check the binary search against.
function bits (address: string): bigint {
  if (address.includes('.') && !address.includes(':')) return address.split('.').reduce((n, octet) => (n << 8n) | BigInt(octet), 0n)
  const [head, tail = ''] = address.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === '' ? [] : tail.split(':')
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left
  return groups.reduce((n, group) => (n << 16n) | BigInt(parseInt(group, 16)), 0n)
}
function text (value: bigint, v6: boolean): string {
  if (!v6) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.')
  return Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':')
}

test('every vendored list: the first and last address of each CIDR are inside, the neighbours outside unless another CIDR holds them (IPv4 and IPv6)', async (t) => {
  t.ok(PUBLISHED_RANGES.length >= 9, 'Google (3 lists), OpenAI (3), Apple, DuckDuckGo, Perplexity-User')
  for (const list of PUBLISHED_RANGES) {
    t.match(list, { url: /^https:\/\//, via: /^https:\/\//, obtained: /^\d{4}-\d{2}-\d{2}$/ }, `${list.key}: source and date recorded`)
    const set = rangeSet(list)
    const spans: Array<[bigint, bigint, boolean]> = []
    for (const [family, cidrs] of [[false, list.v4], [true, list.v6]] as const) {
      for (const cidr of cidrs === '' ? [] : cidrs.split(' ')) {
        const [address, prefix] = cidr.split('/')
        const width = family ? 128n : 32n
        const host = (1n << (width - BigInt(prefix))) - 1n
        const first = bits(address) & ~host
        spans.push([first, first | host, family])
      }
    }
    let checked = 0
    let wrong = 0
    for (const [first, last, v6] of spans) {
      const max = v6 ? (1n << 128n) - 1n : (1n << 32n) - 1n
      for (const probe of [first, last, first - 1n, last + 1n]) {
        if (probe < 0n || probe > max) continue
        const expected = spans.some(([a, b, family]) => family === v6 && probe >= a && probe <= b)
        if (inRangeSet(set, parseIp(text(probe, v6))) !== expected) wrong++
        checked++
      }
    }
    t.equal(wrong, 0, `${list.key}: ${checked} probes agree with a naive scan`)
    if (list.v6 !== '') t.ok(spans.some(([, , v6]) => v6), `${list.key} has IPv6 ranges`)
  }
})

test('each crawler with vendored ranges: verified inside them, a spoof outside (IPv4 and IPv6 where published)', async (t) => {
  const vendored = new Set(PUBLISHED_RANGES.map((list) => list.key))
  for (const known of KNOWN_CRAWLERS) {
    const keys = known.ranges.filter((key) => vendored.has(key))
    // Its own token names it: no earlier token in the table shadows it.
    const identity = identifyCrawler(`Mozilla/5.0 (compatible; ${known.token}/1.0)`)
    t.equal(identity.name, known.name, `${known.token} is reachable`)
    if (keys.length === 0) {
      t.equal(crawlerFor(identity, '66.249.66.1').verified, null, `${known.name}: no vendored ranges, null`)
      continue
    }
    const list = PUBLISHED_RANGES.find((l) => l.key === keys[0])!
    const v4 = list.v4.split(' ')[0].split('/')[0]
    t.equal(crawlerFor(identity, v4).verified, true, `${known.name} from ${v4}`)
    t.equal(crawlerFor(identity, '203.0.113.7').verified, false, `${known.name} from a documentation address: spoofed`)
    if (list.v6 !== '') {
      const v6 = list.v6.split(' ')[0].split('/')[0]
      t.equal(crawlerFor(identity, v6).verified, true, `${known.name} from ${v6}`)
      t.equal(crawlerFor(identity, '2001:db8::1').verified, false, `${known.name} from 2001:db8::1: spoofed`)
    }
  }
  t.ok(RANGES_NOT_VENDORED.every((list) => !vendored.has(list.key)))
})

test('through the plugin: Googlebot verified from Google\'s address (IPv4 and IPv6), spoofed elsewhere; ChatGPT-User from OpenAI\'s', async (t) => {
  const { visit } = await app(t)
  t.same(await visit(GOOGLEBOT, '66.249.66.1'), { name: 'Googlebot', operator: 'Google', purpose: 'search', verified: true })
  t.same(await visit(GOOGLEBOT, '2001:4860:4801:10::1'), { name: 'Googlebot', operator: 'Google', purpose: 'search', verified: true }, 'IPv6')
  t.same(await visit(GOOGLEBOT, '2001:db8::1'), { name: 'Googlebot', operator: 'Google', purpose: 'search', verified: false }, 'IPv6 spoof')
  t.same(await visit(GOOGLEBOT, '203.0.113.9'), { name: 'Googlebot', operator: 'Google', purpose: 'search', verified: false })
  t.same(await visit(CHATGPT_USER, '23.98.142.180'), { name: 'ChatGPT-User', operator: 'OpenAI', purpose: 'ai-assistant', verified: true })
})

test('trustProxy decides which IP is checked: a spoofed X-Forwarded-For is ignored with it off, believed with it on', async (t) => {
  const off = await app(t)
  t.equal((await off.visit(GOOGLEBOT, '203.0.113.9', { 'x-forwarded-for': '66.249.66.1' }))?.verified, false, 'trustProxy off: the socket address, a spoof')
  const on = await app(t, {}, { trustProxy: true })
  t.equal((await on.visit(GOOGLEBOT, '10.0.0.1', { 'x-forwarded-for': '66.249.66.1' }))?.verified, true, 'trustProxy on: the forwarded address')
})

test('stats().events.crawlers counts skipped crawlers (bots: \'skip\', the default) by purpose and name, spoofs apart, names bounded', async (t) => {
  const { instance, collector, visit } = await app(t, { bots: 'skip' })
  await visit(GOOGLEBOT, '66.249.66.1')
  await visit(GOOGLEBOT, '66.249.66.2')
  await visit(GOOGLEBOT, '203.0.113.9')
  await visit(CHATGPT_USER, '203.0.113.9')
  await visit('curl/8.5.0', '203.0.113.9')
  await visit('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', '203.0.113.9')
  t.equal(collector.events.length, 1, 'only the person\'s page view was emitted')
  const crawlers: CrawlerStats = instance.analytics.stats().events.crawlers
  t.same(crawlers.spoofedByName, { Googlebot: 1, 'ChatGPT-User': 1 })
  t.equal(crawlers.requests, 5)
  t.equal(crawlers.spoofed, 2)
  t.same(crawlers.byName, { Googlebot: 2, curl: 1 })
  t.match(crawlers.byPurpose, { search: 2, library: 1, 'ai-assistant': 0, unknown: 0 })
  t.equal(instance.analytics.stats().events.skipped.bot, 5)
})

test('byName lists the most frequent names and sums the rest under other', async (t) => {
  const { instance, visit } = await app(t)
  const names = KNOWN_CRAWLERS.filter((known) => known.ranges.length === 0 && !known.token.includes('/')).slice(0, MAX_REPORTED_CRAWLER_NAMES + 5)
  for (const known of names) await visit(`Mozilla/5.0 (compatible; ${known.token}/1.0; +https://example.com/bot)`, '203.0.113.9')
  await visit(`Mozilla/5.0 (compatible; ${names[0].token}/1.0; +https://example.com/bot)`, '203.0.113.9')
  await visit('', '203.0.113.9')
  const { byName, requests } = instance.analytics.stats().events.crawlers
  t.equal(requests, names.length + 2)
  t.equal(Object.keys(byName).length, MAX_REPORTED_CRAWLER_NAMES + 1, 'the top names and other')
  t.equal(byName[names[0].name], 2, 'the most frequent is listed')
  t.equal(byName.other, 6, 'five names past the bound, and the request no User-Agent named')
  t.equal(Object.values(byName).reduce((a, b) => a + b, 0), requests, 'nothing lost in the bound')
})
