// Where the pipeline runs. With `delivery: 'worker'`, every collector in the worker and no
// `beforeSend`, the request thread only captures: classification of the client, bots, spam, the
// event, enrichment, privacy, visits and country all run in the worker. Spies on the request
// thread's copies of those stages prove it: the worker loads its own copies of the modules, so a
// stage that ran on the request thread shows here, and one that ran in the worker does not.
import { test } from 'tap'
import Fastify from 'fastify'
import analytics, { EventType, Money } from '../../lib/index.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { ClientClassifier } from '../../lib/client.js'
import { Pipeline } from '../../lib/pipeline/index.js'
import { UrlCleaner } from '../../lib/privacy/index.js'
import { Visitors } from '../../lib/visits/index.js'
import { assertBalanced, type TapTest } from '../helpers/collectors.js'
import { ok, startSink, type ReceivedRequest } from '../helpers/sink.js'
import { webhookRules } from '../servers/webhook-rules.js'

// The worker compiles the TypeScript sources on its own under tap: slow on a loaded machine.
const START_TIMEOUT_MS = 60_000
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'

/** Counts calls to the request thread's copies of the pipeline's stages. */
function spyOnStages (t: TapTest): { calls: Record<string, number> } {
  const calls: Record<string, number> = {}
  const targets: Array<[string, object, string]> = [
    ['Pipeline.automatic', Pipeline.prototype, 'automatic'],
    ['Pipeline.tracked', Pipeline.prototype, 'tracked'],
    ['ClientClassifier.classify', ClientClassifier.prototype, 'classify'],
    ['UrlCleaner.apply', UrlCleaner.prototype, 'apply'],
    ['Visitors.identify', Visitors.prototype, 'identify']
  ]
  for (const [name, proto, member] of targets) {
    const original = (proto as Record<string, (...args: unknown[]) => unknown>)[member]
    calls[name] = 0
    ;(proto as Record<string, unknown>)[member] = function (this: unknown, ...args: unknown[]) {
      calls[name]++
      return original.apply(this, args)
    }
    t.teardown(() => { (proto as Record<string, unknown>)[member] = original })
  }
  return { calls }
}

function events (requests: readonly ReceivedRequest[]): Array<Record<string, any>> {
  return requests.flatMap((request) => (JSON.parse(request.body.toString()) as { events: Array<Record<string, any>> }).events)
}

async function run (t: TapTest, extra: Record<string, unknown>): Promise<{ calls: Record<string, number>, received: Array<Record<string, any>>, stats: ReturnType<import('fastify').FastifyInstance['analytics']['stats']> }> {
  const hook = await startSink({ validate: webhookRules({ path: '/hook' }), policy: ok(200) })
  t.teardown(() => hook.close())
  const { calls } = spyOnStages(t)
  const app = Fastify({ pluginTimeout: START_TIMEOUT_MS, trustProxy: true })
  t.teardown(() => app.close())
  await app.register(analytics, {
    delivery: 'worker',
    startTimeoutMs: START_TIMEOUT_MS,
    collectors: [webhookCollector({ url: `${hook.origin}/hook`, flushIntervalMs: 10 })],
    ...extra
  })
  app.get('/p/:id', async (_request, reply) => reply.type('text/html').send('<p>page</p>'))
  app.post('/buy', { config: { analytics: { action: 'buy' } } }, async (request) => {
    request.analytics.setRevenue(Money.fromMinor(2999, 'GBP'))
    request.analytics.addProperty('plan', 'annual')
    request.analytics.track({ type: EventType.Custom, eventName: 'checkout.done' })
    return 'ok'
  })
  await app.ready()
  const headers = { 'user-agent': BROWSER, 'x-forwarded-for': '81.2.69.160', referer: 'https://www.google.com/' }
  for (let i = 0; i < 4; i++) await app.inject({ method: 'GET', url: `/p/${i}?utm_source=news&email=a@b.example`, headers })
  await app.inject({ method: 'GET', url: '/p/bot', headers: { 'user-agent': 'Googlebot/2.1 (+http://www.google.com/bot.html)' } })
  await app.inject({ method: 'GET', url: '/p/pre', headers: { ...headers, 'sec-purpose': 'prefetch' } })
  await app.inject({ method: 'POST', url: '/buy', headers })
  await app.analytics.flush({ timeoutMs: 20_000 })
  const stats = app.analytics.stats()
  await app.close()
  assertBalanced(t, app.analytics.stats().collectors)
  return { calls, received: events(hook.requests), stats }
}

test('worker mode, every collector in the worker, no beforeSend: no stage runs on the request thread, and the events are whole', async (t) => {
  const { calls, received, stats } = await run(t, {})
  t.same(calls, { 'Pipeline.automatic': 0, 'Pipeline.tracked': 0, 'ClientClassifier.classify': 0, 'UrlCleaner.apply': 0, 'Visitors.identify': 0 }, 'the request thread only captured')
  t.equal(received.length, 6, '4 page views, the action and the tracked event')
  const view = received.find((event) => event.type === 'pageview')
  t.match(view, { client: { browser: 'Chrome', os: 'Windows', device: 'desktop' }, visitorId: /^[0-9a-f]{32}$/, path: '/p/0' }, 'client and visitor built in the worker')
  t.notMatch(view?.url, /email=/, 'the privacy rules ran in the worker')
  t.match(view?.visit, { source: 'news', landingPath: '/p/0' }, 'attribution ran in the worker (the campaign, read before the privacy rules)')
  const action = received.find((event) => event.type === 'action')
  t.match(action, { actionName: 'buy', revenue: { amount: '29.99', currency: 'GBP' }, properties: { plan: 'annual' } })
  const custom = received.find((event) => event.type === 'custom')
  t.match(custom, { eventName: 'checkout.done', client: { browser: 'Chrome' }, path: '/buy' }, 'a tracked event is enriched in the worker too')
  t.equal(custom?.visitorId, action?.visitorId, 'one visit store: the tracked event and the automatic one share the visitor')
  t.match(stats.events, { emitted: 6, skipped: { bot: 1, prefetch: 1 } }, 'the worker\'s counters reach stats()')
  t.match(stats.collectors.webhook, { accepted: 6, delivered: 6 })
  t.match(stats.visits, { store: 'memory' })
  t.ok(stats.visits.visitors >= 1, 'the worker\'s visit store is counted')
})

test('worker mode with beforeSend: the pipeline stays on the request thread (the spies see it), with the same events', async (t) => {
  const { calls, received, stats } = await run(t, { beforeSend: (event: unknown) => event })
  t.ok(calls['Pipeline.automatic'] > 0 && calls['ClientClassifier.classify'] > 0 && calls['UrlCleaner.apply'] > 0, 'the stages ran on the request thread')
  t.equal(received.length, 6)
  t.match(stats.events, { emitted: 6, skipped: { bot: 1, prefetch: 1 } })
  t.match(stats.collectors.webhook, { accepted: 6, delivered: 6 })
})
