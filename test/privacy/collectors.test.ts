// What the built-in collectors send under the privacy policy, checked by real HTTP servers on
// 127.0.0.1 that validate each request against the destination's rules and the policy
// (test/servers/*-rules.ts, privacy-rules.ts).
import { test } from 'tap'
import Fastify from 'fastify'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import analytics, { EventType, type AnalyticsOptions } from '../../lib/index.js'
import { stdoutCollector } from '../../lib/collectors/stdout.js'
import { ga4Collector, type Ga4CollectorOptions } from '../../lib/collectors/ga4.js'
import { plausibleCollector, type PlausibleCollectorOptions } from '../../lib/collectors/plausible.js'
import { webhookCollector, type WebhookCollectorOptions } from '../../lib/collectors/webhook.js'
import type { IpPolicy } from '../../lib/privacy/ip.js'
import { assertBalanced, type TapTest } from '../helpers/collectors.js'
import { startSink, type Sink } from '../helpers/sink.js'
import { ga4PrivacyRules } from '../servers/ga4-rules.js'
import { plausibleRules } from '../servers/plausible-rules.js'
import { webhookRules } from '../servers/webhook-rules.js'
import type { PrivacyExpectations } from '../servers/privacy-rules.js'

const COOKIE_CLIENT_ID = '111.1790000000'
const HEADERS = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
  host: 'shop.example',
  referer: 'https://mail.example/inbox?token=s3cret&user=alice%40example.com#msg',
  cookie: `_ga=GA1.1.${COOKIE_CLIENT_ID}`
}
const HOSTILE_URL = '/account/alice@example.com?email=bob%40example.org&token=s3cret&utm_source=news&reset=1#fragment'

interface Ips { stdout?: IpPolicy, ga4?: IpPolicy, plausible?: IpPolicy, webhook?: IpPolicy }

interface Run {
  ga4: Sink
  plausible: Sink
  webhook: Sink
  stdoutLines: () => Array<{ event: Record<string, string> }>
}

/** One app with all four built-in collectors, each sink validating against `expect` (per collector IP policy). */
async function run (t: TapTest, ips: Ips, options: Partial<AnalyticsOptions>, anonymous: boolean, remoteAddress: string): Promise<Run> {
  const expect = (ip: IpPolicy | undefined, fallback: IpPolicy): PrivacyExpectations => ({ ip: ip ?? fallback, anonymous })
  const ga4 = await startSink({ validate: ga4PrivacyRules(expect(ips.ga4, 'full')), policy: () => ({ kind: 'respond', status: 204 }) })
  const plausible = await startSink({ validate: plausibleRules({ domain: 'shop.example', privacy: expect(ips.plausible, 'full') }), policy: () => ({ kind: 'respond', status: 202 }) })
  const webhook = await startSink({ validate: webhookRules({ path: '/hooks', privacy: expect(ips.webhook, 'truncate') }) })
  t.teardown(async () => { await ga4.close(); await plausible.close(); await webhook.close() })
  const file = join(t.testdir(), 'events.ndjson')
  const app = Fastify()
  await app.register(analytics, {
    collectors: [
      stdoutCollector({ destination: file, ...(ips.stdout === undefined ? {} : { ip: ips.stdout }) }),
      ga4Collector({ measurementId: 'G-PRIVACY1', apiSecret: 'privacy-secret', endpoint: ga4.origin, clientId: () => 'app-client-id', ...(ips.ga4 === undefined ? {} : { ip: ips.ga4 }) } satisfies Ga4CollectorOptions),
      plausibleCollector({ domain: 'shop.example', baseUrl: plausible.origin, ...(ips.plausible === undefined ? {} : { ip: ips.plausible }) } satisfies PlausibleCollectorOptions),
      webhookCollector({ url: `${webhook.origin}/hooks`, ...(ips.webhook === undefined ? {} : { ip: ips.webhook }) } satisfies WebhookCollectorOptions)
    ],
    userId: () => 'user-42',
    ...options
  })
  app.get('/*', async (_request, reply) => reply.type('text/html').send('<p>ok</p>'))
  app.post('/signup', async (request) => {
    request.analytics.track({ type: EventType.Custom, eventName: 'signup', url: 'https://shop.example/welcome?invite=carol@example.net&ref=friend' })
    return 'ok'
  })
  await app.inject({ url: HOSTILE_URL, headers: HEADERS, remoteAddress })
  await app.inject({ method: 'POST', url: '/signup?password=hunter2', headers: HEADERS, remoteAddress })
  await app.close()
  assertBalanced(t, app.analytics.stats().collectors)
  // Every sink got every event: the checks below run over what each received, and an empty list passes them all.
  for (const name of ['ga4', 'plausible', 'webhook'] as const) {
    t.equal(app.analytics.stats().collectors[name].delivered, 3, `${name}: every event delivered`)
  }
  t.same(ga4.violations, [], 'GA4: MP rules and the privacy policy')
  t.same(plausible.violations, [], 'Plausible: Events API rules and the privacy policy')
  t.same(webhook.violations, [], 'webhook: schema and the privacy policy')
  return {
    ga4,
    plausible,
    webhook,
    stdoutLines: () => {
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: Record<string, string> })
      t.equal(lines.length, 3, 'stdout: a line per event')
      return lines
    }
  }
}

const bodies = (sink: Sink): Array<Record<string, any>> => sink.requests.map((r) => JSON.parse(r.body.toString('utf8')) as Record<string, any>)

test('defaults: cleaned URLs everywhere; full IP to GA4 and Plausible, /24 to stdout and webhook', async (t) => {
  const { ga4, plausible, webhook, stdoutLines } = await run(t, {}, {}, false, '203.0.113.77')
  const ga4Bodies = bodies(ga4)
  t.ok(ga4Bodies.every((b) => b.ip_override === '203.0.113.77' && b.consent === undefined && b.user_id === 'user-42'))
  t.equal(ga4Bodies[0].client_id, 'app-client-id', 'granted or undecided: the app\'s own client id is used')
  const pageLocations = ga4Bodies.flatMap((b) => b.events.map((e: { params: Record<string, string> }) => e.params.page_location))
  t.ok(pageLocations.includes('http://shop.example/account/[email]?utm_source=news'), 'GA4 page_location')
  t.ok(plausible.requests.every((r) => r.headers['x-forwarded-for'] === '203.0.113.77'))
  t.same(bodies(plausible).map((b) => [b.url, b.referrer]).sort(), [
    ['http://shop.example/account/[email]?utm_source=news', 'https://mail.example/inbox'],
    ['http://shop.example/signup', 'https://mail.example/inbox'],
    ['https://shop.example/welcome?ref=friend', 'https://mail.example/inbox']
  ])
  const webhookEvents = bodies(webhook).flatMap((b) => b.events)
  t.ok(webhookEvents.every((e) => e.clientIP === '203.0.113.0' && e.userId === 'user-42' && e.consent === ''))
  const lines = stdoutLines()
  t.equal(lines.length, 3)
  t.ok(lines.every((l) => l.event.clientIP === '203.0.113.0' && !l.event.url.includes('token')), 'stdout: truncated IP, cleaned URL')

  // The Privacy table (docs/privacy.md), column by column: user agent, user id, cookies.
  const raw = (sink: Sink): string => sink.requests.map((r) => r.body.toString('utf8') + JSON.stringify(r.headers)).join('\n')
  const stdoutText = JSON.stringify(lines)
  const received = { stdout: stdoutText, ga4: raw(ga4), plausible: raw(plausible), webhook: raw(webhook) }
  const table: Record<keyof typeof received, { userAgent: boolean, userId: boolean }> = {
    stdout: { userAgent: true, userId: true },
    ga4: { userAgent: false, userId: true },
    plausible: { userAgent: true, userId: false },
    webhook: { userAgent: true, userId: true }
  }
  for (const [name, expected] of Object.entries(table) as Array<[keyof typeof received, { userAgent: boolean, userId: boolean }]>) {
    t.equal(received[name].includes(HEADERS['user-agent']), expected.userAgent, `${name} ${expected.userAgent ? 'gets' : 'never gets'} the user agent`)
    t.equal(received[name].includes('user-42'), expected.userId, `${name} ${expected.userId ? 'gets' : 'never gets'} the user id`)
    t.notOk(received[name].includes(COOKIE_CLIENT_ID) && name !== 'ga4', `${name} never gets cookies`)
    t.notOk(/s3cret|alice|bob|carol|hunter2|fragment|#/.test(received[name].replace(/"webhook-signature":"[^"]*"/, '')), `${name} gets no secret, email or fragment from the URLs`)
  }
})

test("consent 'anonymous': no user id, no cookie or app client id, GA4 ad consents DENIED, IPs truncated even where 'full'", async (t) => {
  const { ga4, plausible, webhook, stdoutLines } = await run(t, { stdout: 'full', webhook: 'full' }, { consent: () => 'anonymous' }, true, '2001:db8:abcd:12::99')
  for (const body of bodies(ga4)) {
    t.same(body.consent, { ad_user_data: 'DENIED', ad_personalization: 'DENIED' })
    t.equal(body.user_id, undefined)
    t.notOk(body.client_id === COOKIE_CLIENT_ID || body.client_id === 'app-client-id', 'the derived client id, not the _ga cookie nor the app\'s')
    t.match(body.client_id, /^\d+\.\d+$/)
    t.equal(body.ip_override, '2001:db8:abcd::')
  }
  t.ok(plausible.requests.every((r) => r.headers['x-forwarded-for'] === '2001:db8:abcd::'))
  t.ok(bodies(webhook).flatMap((b) => b.events).every((e) => e.clientIP === '2001:db8:abcd::' && e.userId === '' && e.consent === 'anonymous'))
  t.ok(stdoutLines().every((l) => l.event.clientIP === '2001:db8:abcd::' && l.event.userId === ''))
})

test("per-collector ip: 'none' sends no IP, 'truncate' the /24, 'full' the address", async (t) => {
  const { ga4, plausible, webhook, stdoutLines } = await run(t, { stdout: 'none', ga4: 'truncate', plausible: 'none', webhook: 'full' }, {}, false, '198.51.100.23')
  t.ok(bodies(ga4).every((b) => b.ip_override === '198.51.100.0'))
  t.ok(plausible.requests.every((r) => r.headers['x-forwarded-for'] === undefined))
  t.ok(bodies(webhook).flatMap((b) => b.events).every((e) => e.clientIP === '198.51.100.23'))
  t.ok(stdoutLines().every((l) => l.event.clientIP === ''))
  const none = await run(t, { ga4: 'none', plausible: 'truncate', webhook: 'none' }, {}, false, '198.51.100.23')
  t.ok(bodies(none.ga4).every((b) => b.ip_override === undefined))
  t.ok(none.plausible.requests.every((r) => r.headers['x-forwarded-for'] === '198.51.100.0'))
  t.ok(bodies(none.webhook).flatMap((b) => b.events).every((e) => e.clientIP === ''))
})

test('the ip option is checked at construction; GA4 ipOverride: false is ip: none and cannot be combined with ip', async (t) => {
  const bad = { ip: 'partial' } as unknown as { ip: IpPolicy }
  t.throws(() => stdoutCollector(bad), { code: 'FST_ANALYTICS_INVALID_OPTION', message: /stdoutCollector: ip must be "full", "truncate" or "none"/ })
  t.throws(() => ga4Collector({ measurementId: 'G-X1', apiSecret: 's', ...bad }), { code: 'FST_ANALYTICS_INVALID_OPTION', message: /ga4Collector: ip must be/ })
  t.throws(() => plausibleCollector({ domain: 'a.example', ...bad }), { code: 'FST_ANALYTICS_INVALID_OPTION', message: /plausibleCollector: ip must be/ })
  t.throws(() => webhookCollector({ url: 'http://127.0.0.1/', ...bad }), { code: 'FST_ANALYTICS_INVALID_OPTION', message: /ip must be/ })
  t.throws(() => ga4Collector({ measurementId: 'G-X1', apiSecret: 's', ip: 'full', ipOverride: true }), { message: /ipOverride is the old name of ip/ })

  const sink = await startSink({ validate: ga4PrivacyRules({ ip: 'none' }), policy: () => ({ kind: 'respond', status: 204 }) })
  t.teardown(() => sink.close())
  const app = Fastify()
  await app.register(analytics, { collectors: [ga4Collector({ measurementId: 'G-X1', apiSecret: 's', endpoint: sink.origin, ipOverride: false })] })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<p>ok</p>'))
  await app.inject({ url: '/', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' }, remoteAddress: '203.0.113.5' })
  await app.close()
  t.equal(sink.requests.length, 1)
  t.same(sink.violations, [])
})
