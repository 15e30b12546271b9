// The privacy rules through the public API: real requests with app.inject, events read back from
// memoryCollector (a custom collector: it gets what the plugin emits, full IP included).
import { test } from 'tap'
import Fastify from 'fastify'
import analytics, { EventType, type AnalyticsEvent, type AnalyticsOptions } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { logCapture, type TapTest } from '../helpers/collectors.js'

async function build (t: TapTest, options: Partial<AnalyticsOptions> = {}) {
  const collector = memoryCollector()
  const logs = logCapture()
  const app = Fastify({ logger: { level: 'warn', stream: logs.stream } })
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [collector], ...options })
  app.get('/*', async (_request, reply) => reply.type('text/html').send('<p>ok</p>'))
  app.post('/track', async (request) => {
    request.analytics.setUserId('user-7')
    request.analytics.track({ type: EventType.Custom, eventName: 'tracked', url: 'https://shop.example/t?token=x&utm_source=mail#f' })
    return 'ok'
  })
  return { app, collector, logs }
}

const VISITOR = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', host: 'shop.example' }

test('by default only campaign parameters leave: url and referrer, automatic and tracked events, no fragment', async (t) => {
  const { app, collector } = await build(t)
  await app.inject({
    url: '/page?email=alice@example.com&token=s3cret&utm_source=news&gclid=abc',
    headers: { ...VISITOR, referer: 'https://search.example/results?q=secret+search&utm_campaign=spring#frag' }
  })
  await app.inject({ method: 'POST', url: '/track?session=1', headers: VISITOR })
  const [page, tracked, action] = collector.events
  t.equal(page.url, 'http://shop.example/page?utm_source=news&gclid=abc')
  t.equal(page.referrer, 'https://search.example/results?utm_campaign=spring')
  t.equal(tracked.url, 'https://shop.example/t?utm_source=mail', 'an explicit url is cleaned too')
  t.equal(action.url, 'http://shop.example/track')
})

test('privacy.query: keep keeps every parameter, drop none; allowQuery adds names; the referrer\'s query alike', async (t) => {
  for (const [privacy, expected, referrer] of [
    [{ query: 'keep', redactEmails: false }, 'http://shop.example/p?page=2&token=x&utm_source=a', 'https://ref.example/r?page=3&token=y'],
    [{ query: 'drop' }, 'http://shop.example/p', 'https://ref.example/r'],
    [{ allowQuery: ['page'] }, 'http://shop.example/p?page=2&utm_source=a', 'https://ref.example/r?page=3']
  ] as const) {
    const { app, collector } = await build(t, { privacy })
    await app.inject({ url: '/p?page=2&token=x&utm_source=a#top', headers: { ...VISITOR, referer: 'https://ref.example/r?page=3&token=y#frag' } })
    t.equal(collector.events[0].url, expected, JSON.stringify(privacy))
    t.equal(collector.events[0].referrer, referrer, `${JSON.stringify(privacy)}: referrer`)
  }
})

test('emails are redacted in url, path and referrer, percent-encoded too; redactEmails: false keeps them', async (t) => {
  const { app, collector } = await build(t, { privacy: { query: 'keep' } })
  await app.inject({ url: '/users/alice@example.com/orders?to=bob%40example.org', headers: { ...VISITOR, referer: 'https://mail.example/read/carol@example.net' } })
  const [event] = collector.events
  t.equal(event.url, 'http://shop.example/users/[email]/orders?to=[email]')
  t.equal(event.path, '/users/[email]/orders')
  t.equal(event.referrer, 'https://mail.example/read/[email]')
  const kept = await build(t, { privacy: { query: 'keep', redactEmails: false } })
  await kept.app.inject({ url: '/users/alice@example.com', headers: VISITOR })
  t.equal(kept.collector.events[0].path, '/users/alice@example.com')
})

test('privacy option mistakes throw FST_ANALYTICS_INVALID_OPTION at registration', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    ...[null, 'allowlist'].map((privacy): [Record<string, unknown>, RegExp] => [{ privacy }, /privacy must be an object/]),
    [{ privacy: { query: 'some' } }, /privacy.query must be/],
    ...[{ allowQuery: 'page' }, { allowQuery: [''] }, { allowQuery: ['a=b'] }].map((privacy): [Record<string, unknown>, RegExp] => [{ privacy }, /privacy.allowQuery must be/]),
    [{ privacy: { redactEmails: 'yes' } }, /privacy.redactEmails must be a boolean/],
    [{ privacy: { typo: true } }, /privacy has unknown key "typo"/],
    [{ consent: 'denied' }, /consent must be a function/],
    [{ respectGpc: 1 }, /respectGpc must be a boolean/],
    [{ beforeSend: {} }, /beforeSend must be a function/]
  ]
  for (const [options, message] of cases) {
    const app = Fastify()
    t.teardown(() => app.close())
    let error: unknown
    try {
      await app.register(analytics, { collectors: [memoryCollector()], ...options } as unknown as AnalyticsOptions)
    } catch (caught) {
      error = caught
    }
    t.match(error, { code: 'FST_ANALYTICS_INVALID_OPTION', message }, JSON.stringify(options))
  }
})

test("consent 'denied': no automatic event (skipped.consent), tracked events dropped (consentDenied)", async (t) => {
  let asked = 0
  const { app, collector } = await build(t, { consent: (request) => { asked++; return request.headers['x-consent'] as 'denied' | undefined } })
  await app.inject({ method: 'POST', url: '/track', headers: { ...VISITOR, 'x-consent': 'denied' } })
  t.equal(collector.events.length, 0)
  t.equal(asked, 1, 'asked once per request, at its first event')
  const { events } = app.analytics.stats()
  t.equal(events.skipped.consent, 1)
  t.equal(events.consentDenied, 1)
  t.equal(events.emitted, 0)
  await app.inject({ url: '/', headers: VISITOR })
  t.equal(collector.events.length, 1, 'undefined: no decision, the event is sent')
  t.equal(collector.events[0].consent, '')
})

test("consent 'anonymous': no user id, a truncated IP for every collector, the event says so", async (t) => {
  const { app, collector } = await build(t, { consent: () => 'anonymous' })
  await app.inject({ method: 'POST', url: '/track', headers: VISITOR, remoteAddress: '203.0.113.77' })
  await app.inject({ url: '/', headers: VISITOR, remoteAddress: '2001:db8:abcd:12:3:4:5:6' })
  t.equal(collector.events.length, 3)
  for (const event of collector.events) {
    t.equal(event.userId, '')
    t.equal(event.consent, 'anonymous')
  }
  t.same(collector.events.map((e) => e.clientIP), ['203.0.113.0', '203.0.113.0', '2001:db8:abcd::'])
})

test("consent 'granted' keeps everything; respectGpc caps it at 'anonymous' for Sec-GPC: 1 and never lifts 'denied'", async (t) => {
  const { app, collector } = await build(t, { consent: (request) => request.headers['x-consent'] as 'granted' | 'denied', respectGpc: true })
  await app.inject({ method: 'POST', url: '/track', headers: { ...VISITOR, 'x-consent': 'granted' }, remoteAddress: '203.0.113.77' })
  t.same(collector.events.map((e) => [e.userId, e.clientIP, e.consent]), [['', '203.0.113.77', 'granted'], ['user-7', '203.0.113.77', 'granted']])
  collector.clear()
  await app.inject({ url: '/', headers: { ...VISITOR, 'x-consent': 'granted', 'sec-gpc': '1' }, remoteAddress: '203.0.113.77' })
  t.same(collector.events.map((e) => [e.clientIP, e.consent]), [['203.0.113.0', 'anonymous']])
  await app.inject({ url: '/', headers: { ...VISITOR, 'x-consent': 'denied', 'sec-gpc': '1' } })
  t.equal(collector.events.length, 1, 'denied stays denied')

  const gpcOnly = await build(t, { respectGpc: true })
  await gpcOnly.app.inject({ url: '/', headers: { ...VISITOR, 'sec-gpc': '1' } })
  await gpcOnly.app.inject({ url: '/', headers: VISITOR })
  t.same(gpcOnly.collector.events.map((e) => e.consent), ['anonymous', ''])
  const ignored = await build(t)
  await ignored.app.inject({ url: '/', headers: { ...VISITOR, 'sec-gpc': '1' } })
  t.equal(ignored.collector.events[0].consent, '', 'respectGpc is false by default')
})

test('a consent callback that throws or answers nonsense means denied (fail closed), logged rate-limited', async (t) => {
  const { app, collector, logs } = await build(t, { consent: (request) => { if (request.url === '/odd') return 'yes' as 'granted'; throw new Error('cookie parser broke') } })
  for (let i = 0; i < 3; i++) await app.inject({ url: '/', headers: VISITOR })
  await app.inject({ url: '/odd', headers: VISITOR })
  t.equal(collector.events.length, 0)
  t.equal(app.analytics.stats().events.skipped.consent, 4)
  const lines = logs.lines.filter((l) => String(l.msg).includes('consent()'))
  t.equal(lines.length, 1, 'one line per window, not one per request')
  t.match(lines[0], { level: 50, err: { message: 'cookie parser broke' } })
})

test('beforeSend runs last, after the privacy rules: it can change, replace or drop an event', async (t) => {
  const seen: string[] = []
  const { app, collector } = await build(t, {
    consent: () => 'anonymous',
    beforeSend (event: AnalyticsEvent) {
      seen.push(`${event.url} ${event.clientIP} ${event.consent} ${event.request?.method}`)
      if (event.path === '/drop') return null
      if (event.path === '/replace') return { ...event, properties: { replaced: 'yes' }, userId: 'hook' }
      event.properties.seen = 'yes'
      return undefined
    }
  })
  await app.inject({ url: '/keep?token=x#f', headers: VISITOR, remoteAddress: '203.0.113.77' })
  await app.inject({ url: '/drop', headers: VISITOR })
  await app.inject({ method: 'POST', url: '/track', headers: VISITOR })
  await app.inject({ url: '/replace', headers: VISITOR })
  t.equal(seen[0], 'http://shop.example/keep 203.0.113.0 anonymous GET', 'the hook sees the cleaned event and its request')
  t.same(collector.events.map((e) => [e.path, e.properties]), [
    ['/keep', { seen: 'yes' }], ['/track', { seen: 'yes' }], ['/track', { seen: 'yes' }], ['/replace', { replaced: 'yes' }]
  ])
  t.equal(collector.events[3].userId, 'hook', 'what the hook returns is what is sent')
  t.equal(collector.events[3].consent, 'anonymous', 'consent is the plugin\'s: the hook cannot change it')
  t.equal(app.analytics.stats().events.skipped.beforeSend, 1)
})

test('beforeSend that throws, returns a promise or an invalid event drops it, counted and logged; requests never fail', async (t) => {
  const { app, collector, logs } = await build(t, {
    beforeSend (event: AnalyticsEvent) {
      if (event.path === '/throw') throw new Error('hook broke')
      if (event.path === '/async') return Promise.resolve(event) as unknown as AnalyticsEvent
      if (event.path === '/invalid') return { ...event, type: 'nope' } as unknown as AnalyticsEvent
      if (event.type === EventType.Custom) return null
      return event
    }
  })
  for (const url of ['/throw', '/async', '/invalid', '/ok']) {
    const response = await app.inject({ url, headers: VISITOR })
    t.equal(response.statusCode, 200, url)
  }
  await app.inject({ method: 'POST', url: '/track', headers: VISITOR })
  t.same(collector.events.map((e) => e.path), ['/ok', '/track'])
  const { events } = app.analytics.stats()
  t.equal(events.beforeSendFailed, 3)
  t.equal(events.beforeSendDropped, 1, 'the tracked event the hook dropped')
  t.equal(events.skipped.beforeSend, 0)
  t.equal(events.emitted, 2)
  const line = logs.lines.find((l) => String(l.msg).includes('beforeSend'))
  t.match(line, { level: 50, err: { message: 'hook broke' } })
})

test('cleaned values are remembered per registration: repeats are cleaned alike, two policies never share an answer', async (t) => {
  const keep = await build(t, { privacy: { query: 'keep', redactEmails: false } })
  const strict = await build(t, { privacy: { query: 'drop' } })
  const url = '/repeat?token=s3cret&to=bob@example.com'
  const referer = 'https://mail.example/inbox?to=bob@example.com#msg'
  for (let i = 0; i < 3; i++) {
    // The same URL, referrer and path, alternating between the two apps in one process.
    await keep.app.inject({ url, headers: { ...VISITOR, referer } })
    await strict.app.inject({ url, headers: { ...VISITOR, referer } })
  }
  t.same(keep.collector.events.map((e) => [e.url, e.path, e.referrer]), Array(3).fill([
    'http://shop.example/repeat?token=s3cret&to=bob@example.com', '/repeat', 'https://mail.example/inbox?to=bob@example.com'
  ]))
  t.same(strict.collector.events.map((e) => [e.url, e.path, e.referrer]), Array(3).fill([
    'http://shop.example/repeat', '/repeat', 'https://mail.example/inbox'
  ]))
})
