// What a visitor (or an auth plugin) can put into an event that must not reach a destination as is:
// emails in every form, script referrers, a Host that only looks like the site, an IPv6 zone.
// Every destination is a real local receiver checking its published rules and the privacy policy.
import { test } from 'tap'
import Fastify from 'fastify'
import analytics, { EventType } from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { ga4Collector } from '../../lib/collectors/ga4.js'
import { plausibleCollector } from '../../lib/collectors/plausible.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { logCapture, type TapTest } from '../helpers/collectors.js'
import { TEST_DELIVERY } from '../helpers/delivery.js'
import { startSink, type Sink } from '../helpers/sink.js'
import { ga4PrivacyRules } from '../servers/ga4-rules.js'
import { plausibleRules } from '../servers/plausible-rules.js'
import { webhookRules } from '../servers/webhook-rules.js'
import { hasEmail } from '../servers/privacy-rules.js'

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0'

async function build (t: TapTest, userEmail?: string, delivery = TEST_DELIVERY) {
  const ga4Sink = await startSink({ validate: ga4PrivacyRules({ ip: 'full' }), policy: () => ({ kind: 'respond', status: 204 }) })
  const plausibleSink = await startSink({ validate: plausibleRules({ domain: 'shop.example', privacy: { ip: 'full' } }), policy: () => ({ kind: 'respond', status: 202 }) })
  const webhookSink = await startSink({ validate: webhookRules({ path: '/hooks', privacy: { ip: 'full' } }) })
  t.teardown(async () => { await ga4Sink.close(); await plausibleSink.close(); await webhookSink.close() })
  const memory = memoryCollector()
  const ga4 = ga4Collector({ measurementId: 'G-HOSTILE1', apiSecret: 'hostile-secret', endpoint: ga4Sink.origin, ip: 'full' })
  const log = logCapture()
  const app = Fastify({ logger: { level: 'info', stream: log.stream } })
  t.teardown(() => app.close())
  await app.register(analytics, {
    pageViews: 'all',
    delivery,
    collectors: [memory, ga4, plausibleCollector({ domain: 'shop.example', baseUrl: plausibleSink.origin, ip: 'full' }), webhookCollector({ url: `${webhookSink.origin}/hooks`, ip: 'full' })]
  })
  if (userEmail !== undefined) {
    // What an auth plugin does: the plugin reads request.user.id when no userId option is given.
    app.decorateRequest('user', null)
    app.addHook('onRequest', async (request) => { (request as unknown as { user: unknown }).user = { id: userEmail } })
  }
  app.get('/*', async () => 'ok')
  const sinks = { ga4: ga4Sink, plausible: plausibleSink, webhook: webhookSink }
  /** Flushes every collector and checks each receiver found no rule broken. */
  async function delivered (count: number): Promise<void> {
    await app.analytics.flush()
    for (const [name, figures] of Object.entries(app.analytics.stats().collectors)) {
      t.equal(figures.delivered, count, `${name}: every event delivered`)
    }
    for (const [name, sink] of Object.entries(sinks)) t.same(sink.violations, [], `${name}: its rules and the privacy policy hold`)
  }
  return { app, memory, ga4, log, sinks, delivered }
}

const bodies = (sink: Sink): Array<Record<string, any>> => sink.requests.map((r) => JSON.parse(r.body.toString('utf8')) as Record<string, any>)

test('an email as the user id is not sent to GA4: counted in privacyStats(), logged once with the fix', async (t) => {
  // Inline: privacyStats() counts on the instance that collects, which in worker mode is the worker's copy.
  const { app, memory, ga4, log, sinks, delivered } = await build(t, 'alice@example.com', 'inline')
  for (let i = 0; i < 3; i++) await app.inject({ url: `/page/${i}`, headers: { 'user-agent': UA, host: 'shop.example' } })
  await delivered(3)
  t.equal(memory.events[0].userId, 'alice@example.com', 'the app\'s own collectors keep it')
  t.ok(bodies(sinks.ga4).every((body) => body.user_id === undefined), 'GA4 got no user_id')
  t.equal(ga4.privacyStats().emailUserIds, 3)
  const warnings = log.lines.filter((line) => String(line.msg).includes('user id is an email'))
  t.equal(warnings.length, 1, 'logged once')
  t.match(warnings[0]?.msg, /userId option/, 'the line names the fix')
  t.notMatch(JSON.stringify(warnings), /alice/, 'the log does not carry the address')
})

test('emails in event names and property values, double-encoded, with %2E dots or a full-width at sign, reach no collector', async (t) => {
  const { app, memory, sinks, delivered } = await build(t)
  app.post('/signup', async (request) => {
    request.analytics.addProperty('contact', 'bob\uFF20example.org')
    request.analytics.addProperty('note', 'write to carol%40mail%2Eexample%2Ecom')
    request.analytics.track({ type: EventType.Custom, eventName: 'signup alice@example.com', properties: { ref: 'alice%2540example.com' } })
    return 'ok'
  })
  const headers = { 'user-agent': UA, host: 'shop.example', referer: 'https://mail.example/?ref=dave%2540example.com' }
  await app.inject({ url: '/landing?ref=erin%2540example.com', headers })
  await app.inject({ method: 'POST', url: '/signup', headers })
  t.equal(memory.events.length, 3)
  const [page, tracked, action] = memory.events
  t.equal(page.url, 'http://shop.example/landing?ref=[email]')
  t.equal(page.referrer, 'https://mail.example/?ref=[email]')
  t.equal(tracked.eventName, 'signup [email]')
  t.same(tracked.properties, { ref: '[email]' })
  t.same(action.properties, { contact: '[email]', note: 'write to [email]' })
  t.notOk(hasEmail(JSON.stringify(memory.events)), 'memoryCollector: no email in any form')
  await delivered(3)
  for (const [name, sink] of Object.entries(sinks)) {
    t.notOk(sink.requests.some((request) => hasEmail(request.body.toString('utf8'))), `${name}: no email in any body`)
  }
})

test('a referrer that is not an http(s) URL (javascript:, data:, markup) becomes empty for every collector', async (t) => {
  const { app, memory, delivered } = await build(t)
  const referrers = [
    'javascript:alert(document.cookie)',
    'data:text/html,<script>alert(1)</script>',
    '<script>alert(1)</script>',
    'https://evil.example/"><img src=x onerror=alert(1)>',
    'https://news.example/story'
  ]
  for (const referer of referrers) await app.inject({ url: '/', headers: { 'user-agent': UA, host: 'shop.example', referer } })
  t.same(memory.events.map((event) => event.referrer), ['', '', '', '', 'https://news.example/story'])
  await delivered(referrers.length)
})

test('Plausible reads the Host as a URL parser does: evil.example\\.shop.example is not the site', async (t) => {
  const { app, sinks, delivered } = await build(t)
  await app.inject({ url: '/products', headers: { 'user-agent': UA, host: 'evil.example\\.shop.example' } })
  await app.inject({ url: '/about', headers: { 'user-agent': UA, host: 'blog.shop.example' } })
  await delivered(2)
  t.same(bodies(sinks.plausible).map((body) => new URL(body.url as string).hostname).sort(), ['blog.shop.example', 'shop.example'])
})

test('a zoned IPv6 address loses its zone before any collector', async (t) => {
  const { app, memory, sinks, delivered } = await build(t)
  await app.inject({ url: '/', headers: { 'user-agent': UA, host: 'shop.example' }, remoteAddress: 'fe80::1%eth0' })
  app.analytics.track({ type: EventType.Custom, eventName: 'job', clientIP: 'fe80::2%lo', userAgent: UA, url: 'https://shop.example/job' })
  t.same(memory.events.map((event) => event.clientIP), ['fe80::1', 'fe80::2'])
  await delivered(2)
  t.same(bodies(sinks.ga4).map((body) => body.ip_override).sort(), ['fe80::1', 'fe80::2'])
  t.same(sinks.plausible.requests.map((request) => request.headers['x-forwarded-for']).sort(), ['fe80::1', 'fe80::2'])
  t.same(bodies(sinks.webhook).flatMap((body) => body.events.map((event: { clientIP: string }) => event.clientIP)).sort(), ['fe80::1', 'fe80::2'])
})
