import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import analytics, { EventType, type AnalyticsOptions } from '../../lib/index.js'
import { memoryCollector, type MemoryCollector } from '../../lib/testing.js'
import { DAY_MS, VISITS_CLOCK } from '../../lib/visits/index.js'
import type { TapTest } from '../helpers/collectors.js'

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const HEX_32 = /^[0-9a-f]{32}$/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** A clock the test moves; starts at 12:00 UTC on some day. */
function testClock (start = Date.UTC(2026, 5, 10, 12)): { now: () => number, set: (ms: number) => void, advance: (ms: number) => void } {
  let now = start
  return { now: () => now, set: (ms) => { now = ms }, advance: (ms) => { now += ms } }
}

async function visitsApp (t: TapTest, options: Partial<AnalyticsOptions> = {}): Promise<{ app: FastifyInstance, collector: MemoryCollector }> {
  const collector = memoryCollector()
  const app = Fastify({ trustProxy: false })
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector], pageViews: 'all', ...options })
  app.get('/*', async () => 'ok')
  app.post('/buy', async (request) => {
    request.analytics.track({ type: EventType.Custom, eventName: 'bought' })
    return 'ok'
  })
  await app.ready()
  return { app, collector }
}

interface Visit { ip?: string, ua?: string, host?: string, referer?: string }

async function get (app: FastifyInstance, url: string, v: Visit = {}): Promise<unknown> {
  const headers: Record<string, string> = { 'user-agent': v.ua ?? FIREFOX, host: v.host ?? 'shop.example' }
  if (v.referer !== undefined) headers.referer = v.referer
  return await app.inject({ method: 'GET', url, headers, remoteAddress: v.ip ?? '203.0.113.7' })
}

test('a visitor id is 32 hex characters, stable for one visitor, different for another IP, user agent or host', async (t) => {
  const { app, collector } = await visitsApp(t)
  await get(app, '/a')
  await get(app, '/b')
  await get(app, '/a', { ip: '203.0.113.8' })
  await get(app, '/a', { ua: CHROME })
  await get(app, '/a', { host: 'other.example' })
  const ids = collector.events.map((event) => event.visitorId)
  t.equal(ids.length, 5)
  t.ok(ids.every((id) => HEX_32.test(id)), 'every id is 32 lowercase hex characters')
  t.equal(ids[0], ids[1], 'the same IP, user agent and host: the same visitor')
  t.equal(new Set(ids.slice(1)).size, 4, 'another IP, user agent or host: another visitor')
  t.notOk(ids[0].includes('203') && ids[0].includes('113'), 'the IP is not in the id')
})

test('an event without a request (a job) has no visitor and no visit; visits: false gives none either', async (t) => {
  const { app, collector } = await visitsApp(t)
  app.analytics.track({ type: EventType.Custom, eventName: 'nightly' })
  t.equal(collector.events[0].visitorId, '')
  t.equal(collector.events[0].visit, null)

  const off = await visitsApp(t, { visits: false })
  await get(off.app, '/a')
  t.equal(off.collector.events[0].visitorId, '')
  t.equal(off.collector.events[0].visit, null)
  t.equal(off.app.analytics.stats().visits.store, 'off')
})

test('a visit: one id on every event, the landing path of its first, started at its first event; tracked events share it', async (t) => {
  const clock = testClock()
  const { app, collector } = await visitsApp(t, { visits: { [VISITS_CLOCK]: clock.now } as never })
  await get(app, '/landing?secret=1')
  clock.advance(60_000)
  await get(app, '/second')
  await app.inject({ method: 'POST', url: '/buy', headers: { 'user-agent': FIREFOX, host: 'shop.example' }, remoteAddress: '203.0.113.7' })
  const visits = collector.events.map((event) => event.visit)
  t.equal(visits.length, 4)
  t.ok(visits.every((visit) => visit !== null && UUID.test(visit.id)), 'every event has a visit with a UUID')
  t.equal(new Set(visits.map((visit) => visit?.id)).size, 1, 'one visit')
  t.equal(visits[0]?.landingPath, '/landing', 'the landing path is the first event\'s path, without its query')
  t.equal(visits[3]?.landingPath, '/landing')
  t.ok(Math.abs(Date.parse(visits[0]?.startedAt ?? '') - (clock.now() - 60_000)) < 1000, 'started at the first event')
  t.same(visits[0]?.channel, 'Direct')
  t.same(visits[0]?.source, '(direct)')
  t.same(visits[0]?.medium, '(none)')
  t.same(app.analytics.stats().visits, { store: 'memory', visitors: 1, evictions: 0, fallbacks: 0 })
})

test('a gap of timeoutMs ends a visit; a shorter one continues it', async (t) => {
  const clock = testClock()
  const { app, collector } = await visitsApp(t, { visits: { timeoutMs: 1000, [VISITS_CLOCK]: clock.now } as never })
  await get(app, '/1')
  clock.advance(999)
  await get(app, '/2')
  clock.advance(999)
  await get(app, '/3')
  clock.advance(1000)
  await get(app, '/4')
  const ids = collector.events.map((event) => event.visit?.id)
  t.equal(ids[0], ids[1], 'a gap under the timeout continues the visit')
  t.equal(ids[1], ids[2], 'measured from the last event, not the first')
  t.not(ids[3], ids[2], 'a gap of the timeout starts a new visit')
  t.equal(collector.events[3].visit?.landingPath, '/4')
  t.equal(collector.events[3].visitorId, collector.events[0].visitorId, 'the same visitor')
})

test('a request with a new campaign starts a visit; a same-site referrer and no referrer do not; the visit keeps its entry attribution', async (t) => {
  const clock = testClock()
  const { app, collector } = await visitsApp(t, { visits: { [VISITS_CLOCK]: clock.now } as never })
  await get(app, '/?utm_source=newsletter&utm_medium=email&utm_campaign=spring')
  clock.advance(1000)
  await get(app, '/pricing', { referer: 'https://shop.example/?utm_source=newsletter' })
  clock.advance(1000)
  await get(app, '/pricing', { referer: 'https://www.shop.example/pricing' })
  clock.advance(1000)
  await get(app, '/checkout')
  clock.advance(1000)
  await get(app, '/?utm_source=newsletter&utm_medium=email&utm_campaign=spring')
  clock.advance(1000)
  await get(app, '/?utm_source=facebook&utm_medium=paid_social&utm_campaign=summer')
  const visits = collector.events.map((event) => event.visit)
  t.equal(visits.length, 6)
  t.equal(new Set(visits.slice(0, 5).map((visit) => visit?.id)).size, 1, 'same-site navigation, no referrer and the same campaign again: one visit')
  for (const visit of visits.slice(0, 5)) {
    t.match(visit, { channel: 'Email', source: 'newsletter', medium: 'email', campaign: 'spring', landingPath: '/' }, 'every event carries the entry attribution')
  }
  t.not(visits[5]?.id, visits[0]?.id, 'another campaign starts a new visit')
  t.match(visits[5], { source: 'facebook', campaign: 'summer', landingPath: '/' })
  t.equal(collector.events[0].url, 'http://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring')
})

test('a new external referrer source starts a visit; the same one again does not', async (t) => {
  const clock = testClock()
  const { app, collector } = await visitsApp(t, { visits: { [VISITS_CLOCK]: clock.now } as never, privacy: { query: 'drop' } })
  await get(app, '/a?utm_source=partner', { referer: 'https://blog.example/post' })
  clock.advance(1000)
  await get(app, '/b', { referer: 'https://blog.example/other' })
  clock.advance(1000)
  await get(app, '/c', { referer: 'https://news.example/' })
  const [a, b, c] = collector.events.map((event) => event.visit)
  t.equal(collector.events[0].url, 'http://shop.example/a', 'the privacy rules dropped the query')
  t.equal(a?.source, 'partner', 'attribution comes from the URL as received, before the privacy rules')
  t.not(b?.id, a?.id, 'a referral from another source than the campaign starts a visit')
  t.equal(b?.source, 'blog.example')
  t.equal(b?.medium, 'referral')
  t.not(c?.id, b?.id, 'another referring site starts a visit')
})

test('midnight: the id changes with the day\'s salt, the visit continues; salts older than 48 hours are gone', async (t) => {
  const midnight = Date.UTC(2026, 5, 11)
  const clock = testClock(midnight - 10 * 60_000)
  const { app, collector } = await visitsApp(t, { visits: { [VISITS_CLOCK]: clock.now } as never })
  await get(app, '/before-midnight')
  clock.set(midnight + 5 * 60_000)
  await get(app, '/after-midnight')
  const [before, after] = collector.events
  t.not(after.visitorId, before.visitorId, 'a new day, a new salt: a new visitor id')
  t.equal(after.visit?.id, before.visit?.id, 'the visit that crossed midnight continues')
  t.equal(after.visit?.landingPath, '/before-midnight')

  clock.set(midnight + DAY_MS + 60_000)
  await get(app, '/next-day')
  const third = collector.events[2]
  t.not(third.visitorId, after.visitorId)
  t.not(third.visit?.id, after.visit?.id, 'a day later: a new visit')
  // Two days after the first salt's day began, only today's and yesterday's salts are held.
  clock.set(midnight + 2 * DAY_MS + 60_000)
  await get(app, '/two-days-later')
  t.not(collector.events[3].visitorId, before.visitorId)
  t.equal(collector.events[3].visitorId.length, 32)
  const stats = app.analytics.stats().visits
  t.equal(stats.store, 'memory')
  t.notOk(JSON.stringify(app.analytics.stats()).match(/salt/i), 'no salt in stats()')
})

test('visits and geo options are checked at registration', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    [{ visits: { timeoutMs: 999 } }, /visits.timeoutMs/],
    [{ visits: { timeoutMs: 1.5e3 + 0.5 } }, /visits.timeoutMs/],
    [{ visits: { ttl: 5 } }, /visits has unknown key "ttl"/],
    [{ visits: { store: {} } }, /visits.store/],
    [{ visits: true }, /visits must be an object or false/],
    [{ geo: { header: 'bad header' } }, /geo.header/],
    [{ geo: { database: '' } }, /geo.database/],
    [{ geo: { database: '/nonexistent/countries.mmdb' } }, /geo.database: cannot read/],
    [{ geo: 'on' }, /geo must be an object or false/]
  ]
  for (const [options, message] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    await t.rejects(async () => { await app.register(analytics, { collectors: [memoryCollector()], ...(options as object) }).ready() }, { code: 'FST_ANALYTICS_INVALID_OPTION', message }, JSON.stringify(options))
  }
})

test('consent: denied leaves no visit behind; anonymous keeps the cookieless visitor id, computed from the full IP', async (t) => {
  let answer: 'denied' | 'anonymous' | 'granted' = 'denied'
  const { app, collector } = await visitsApp(t, { consent: () => answer })
  await get(app, '/denied')
  t.equal(collector.events.length, 0)
  t.equal(app.analytics.stats().visits.visitors, 0, 'a denied request leaves nothing in the visit store')
  answer = 'anonymous'
  await get(app, '/anon', { ip: '203.0.113.7' })
  await get(app, '/anon', { ip: '203.0.113.9' })
  const [a, b] = collector.events
  t.equal(a.clientIP, '203.0.113.0', 'the IP is truncated')
  t.ok(HEX_32.test(a.visitorId), 'an anonymous visitor keeps the daily visitor id')
  t.not(a.visitorId, b.visitorId, 'the id is made from the full IP, before truncation')
})

test('beforeSend gets the visitor, visit and country and they survive its copy', async (t) => {
  const seen: string[] = []
  const { app, collector } = await visitsApp(t, {
    beforeSend: (event) => {
      seen.push(event.visitorId)
      return { ...event, properties: { ...event.properties, checked: 'yes' } }
    }
  })
  await get(app, '/a')
  t.equal(collector.events[0].properties.checked, 'yes')
  t.ok(HEX_32.test(collector.events[0].visitorId))
  t.equal(collector.events[0].visitorId, seen[0])
  t.not(collector.events[0].visit, null)
})

test('country: from the client IP in the shipped database, before the IP is truncated; from a named CDN header; none with geo: false', async (t) => {
  const { app, collector } = await visitsApp(t, { consent: () => 'anonymous' })
  await get(app, '/', { ip: '8.8.8.8' })
  await get(app, '/', { ip: '127.0.0.1' })
  await get(app, '/', { ip: '203.0.113.7', referer: undefined })
  t.same(collector.events.map((event) => event.country), ['US', '', ''], 'a public IP has a country; loopback and documentation ranges none')
  t.equal(collector.events[0].clientIP, '8.8.8.0', 'looked up before the anonymous visitor\'s IP was truncated')

  const cdn = await visitsApp(t, { geo: { header: 'CF-IPCountry' } })
  for (const value of ['de', 'XX', 'T1']) {
    await cdn.app.inject({ url: '/', headers: { 'user-agent': FIREFOX, 'cf-ipcountry': value }, remoteAddress: '8.8.8.8' })
  }
  await cdn.app.inject({ url: '/', headers: { 'user-agent': FIREFOX, 'x-other-country': 'FR' }, remoteAddress: '8.8.8.8' })
  t.same(cdn.collector.events.map((event) => event.country), ['DE', '', '', ''], 'the named header only; XX and T1 are unknown; no database unless named')

  const both = await visitsApp(t, { geo: { header: 'cf-ipcountry', database: undefined } })
  await both.app.inject({ url: '/', headers: { 'user-agent': FIREFOX, 'cf-ipcountry': 'fr' }, remoteAddress: '8.8.8.8' })
  t.equal(both.collector.events[0].country, 'FR')

  const off = await visitsApp(t, { geo: false })
  await get(off.app, '/', { ip: '8.8.8.8' })
  t.equal(off.collector.events[0].country, '')
})

test('a tracked event whose timestamp is another day neither rotates the salt nor starts a visit', async (t) => {
  const collector = memoryCollector()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector], pageViews: 'all' })
  app.get('/*', async (request) => {
    if (request.url === '/future') request.analytics.track({ type: EventType.Custom, eventName: 'skewed', timestamp: new Date(Date.now() + 3 * DAY_MS) })
    if (request.url === '/past') request.analytics.track({ type: EventType.Custom, eventName: 'late', timestamp: new Date(Date.now() - 3 * DAY_MS) })
    return 'ok'
  })
  await app.ready()
  await get(app, '/a')
  await get(app, '/future')
  await get(app, '/past')
  await get(app, '/b')
  const events = collector.events
  t.equal(events.length, 6)
  t.equal(new Set(events.map((event) => event.visitorId)).size, 1, 'one visitor id: today\'s salt throughout')
  t.equal(new Set(events.map((event) => event.visit?.id)).size, 1, 'one visit')
})
