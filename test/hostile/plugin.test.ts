// Hostile input through the whole plugin, with real destinations as the oracle: random requests
// (headers with CR/LF and control characters, forged X-Forwarded-For, Host and _ga cookies, huge
// values) whose handlers hand random events, properties and revenues to the request API. Nothing
// may throw into a handler, and nothing may reach a destination that its published rules forbid.
import { test } from 'tap'
import type { TapTest } from '../helpers/collectors.js'
import fc from 'fast-check'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { addAnalyticsProperty, setAnalyticsEventName, setAnalyticsRevenue, trackAnalyticsEvent } from '../../lib/index.js'
import { cookieHeader, eventInput, forgedForwardedFor, headerValue, ipv4, properties, propertyValue, revenue, text } from './arbitraries.js'
import { destinations, type Destinations } from './destinations.js'

type Action =
  | ['addProperty', unknown, unknown]
  | ['setRevenue', unknown]
  | ['setEventName', unknown]
  | ['setUserId', unknown]
  | ['track', unknown]
  | ['skip']
  | ['trackOutside', unknown]
  | ['helperTrack', unknown]
  | ['helperProperty', unknown, unknown]
  | ['helperRevenue', unknown]
  | ['helperEventName', unknown]

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.tuple(fc.constant('addProperty' as const), fc.oneof(text, fc.anything()), propertyValue),
  fc.tuple(fc.constant('setRevenue' as const), revenue),
  fc.tuple(fc.constant('setEventName' as const), fc.oneof(text, fc.anything())),
  fc.tuple(fc.constant('setUserId' as const), fc.oneof(text, fc.integer(), fc.double(), fc.anything())),
  fc.tuple(fc.constant('track' as const), eventInput),
  fc.tuple(fc.constant('skip' as const)),
  fc.tuple(fc.constant('trackOutside' as const), eventInput),
  fc.tuple(fc.constant('helperTrack' as const), eventInput),
  fc.tuple(fc.constant('helperProperty' as const), fc.oneof(text, fc.anything()), propertyValue),
  fc.tuple(fc.constant('helperRevenue' as const), revenue),
  fc.tuple(fc.constant('helperEventName' as const), fc.oneof(text, fc.anything()))
)

/** Calls the request API as a (careless) handler would: no try/catch anywhere. */
function apply (app: FastifyInstance, request: FastifyRequest, [name, ...args]: Action): void {
  const api = request.analytics as unknown as Record<string, (...values: unknown[]) => void>
  switch (name) {
    case 'trackOutside': app.analytics.track(args[0] as never); return
    case 'helperTrack': trackAnalyticsEvent(args[0] as never); return
    case 'helperProperty': addAnalyticsProperty(args[0] as never, args[1] as never); return
    case 'helperRevenue': setAnalyticsRevenue(args[0] as never); return
    case 'helperEventName': setAnalyticsEventName(args[0] as never); return
    default: api[name](...args)
  }
}

/** A URL path from any text: well-formed, percent-encoded, long ones kept long. */
function pathOf (raw: string): string {
  const wellFormed = raw.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
  return `/r/${encodeURIComponent(wellFormed)}`
}

async function appWithActions (t: TapTest, trustProxy: boolean | string): Promise<{ d: Destinations, runs: Map<string, Action[]> }> {
  const runs = new Map<string, Action[]>()
  const d = await destinations(t, { trustProxy, bodyLimit: 1024 }, (app) => {
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      url: '/r/*',
      handler: async (request) => {
        for (const step of runs.get(String(request.headers['x-run'])) ?? []) apply(app, request, step)
        return 'ok'
      }
    })
  })
  return { d, runs }
}

test('random requests and random calls to the request API: never a thrown error, never a rule broken at GA4, Plausible or the webhook', async (t) => {
  const { d, runs } = await appWithActions(t, false)
  let id = 0
  let requests = 0
  await fc.assert(fc.asyncProperty(
    fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
      path: text,
      headers: fc.record({
        'user-agent': headerValue,
        referer: headerValue,
        'accept-language': headerValue,
        cookie: cookieHeader,
        host: headerValue,
        'x-forwarded-for': forgedForwardedFor
      }, { requiredKeys: [] }),
      actions: fc.array(action, { maxLength: 6 })
    }),
    async ({ method, path, headers, actions }) => {
      const run = String(++id)
      runs.set(run, actions)
      const response = await d.app.inject({ method: method as 'GET', url: pathOf(path), headers: { ...headers, 'x-run': run } })
      runs.delete(run)
      requests++
      return response.statusCode === 200 || (response.statusCode === 404 && method === 'OPTIONS')
    }
  ), { numRuns: 150 })
  await d.finish()
  // After close: in worker mode the pipeline's counters come from the worker, final once it is closed.
  const emitted = d.app.analytics.stats().events.emitted
  t.ok(requests >= 150 && emitted > 0, `${requests} requests, ${emitted} events emitted`)
  t.ok(d.sinks.ga4.requests.length > 0 && d.sinks.plausible.requests.length > 0 && d.sinks.webhook.requests.length > 0, 'every destination received requests')
})

test('properties: unicode, surrogate halves, 1 MB values, thousands of keys, __proto__ and constructor, non-string values', async (t) => {
  const { d, runs } = await appWithActions(t, false)
  let id = 0
  await fc.assert(fc.asyncProperty(properties, fc.array(fc.tuple(fc.oneof(text, fc.anything()), propertyValue), { maxLength: 100 }), async (bag, adds) => {
    const run = String(++id)
    runs.set(run, [
      ...adds.map(([key, value]): Action => ['addProperty', key, value]),
      ['track', { type: 'custom', eventName: 'props', properties: bag }]
    ])
    const response = await d.app.inject({ url: '/r/props', headers: { 'x-run': run, 'user-agent': 'Mozilla/5.0 props' } })
    runs.delete(run)
    return response.statusCode === 200
  }), { numRuns: 100 })
  t.equal(Object.hasOwn(Object.prototype, 'p'), false, 'Object.prototype untouched')
  t.equal(({} as Record<string, unknown>).constructor, Object, 'no prototype was polluted')
  const stats = await d.finish()
  // 1 MB values are cut to MAX_PROPERTY_VALUE_LENGTH where they enter: no event is too large for a webhook body any more.
  t.equal(stats.webhook.dropped.invalid, 0, 'no event dropped as too large')
  t.ok(d.app.analytics.stats().events.truncated > 0, 'the 1 MB values were cut and counted')
  // The webhook carries properties as they are: the first 64 keys, `__proto__` as data.
  const bodies = d.sinks.webhook.requests.map((request) => JSON.parse(request.body.toString('utf8')) as { events: Array<{ properties: Record<string, string> }> })
  const all = bodies.flatMap((body) => body.events)
  t.ok(all.every((event) => Object.keys(event.properties).length <= 64), 'never more than 64 properties')
  t.ok(all.some((event) => Object.hasOwn(event.properties, '__proto__')), '__proto__ arrives as an ordinary key')
})

test('forged X-Forwarded-For and Host: without trustProxy the socket address is the client IP, whatever the headers say', async (t) => {
  const { d, runs } = await appWithActions(t, false)
  let id = 0
  const expected = new Map<string, string>()
  await fc.assert(fc.asyncProperty(forgedForwardedFor, headerValue, async (xff, host) => {
    const run = `xff-${++id}`
    runs.set(run, [['addProperty', 'run', run]])
    expected.set(run, '127.0.0.1')
    const response = await d.app.inject({ url: `/r/${run}`, headers: { 'x-run': run, 'x-forwarded-for': xff, host, 'user-agent': 'Mozilla/5.0 forged' } })
    return response.statusCode === 200
  }), { numRuns: 60 })
  await d.finish()
  checkClientIps(t, d, expected)
})

test('forged X-Forwarded-For with trustProxy set to the proxy\'s address: the entry the proxy appended wins, forged ones never do', async (t) => {
  const { d, runs } = await appWithActions(t, '127.0.0.1')
  let id = 0
  const expected = new Map<string, string>()
  const real = ipv4.filter((ip) => !ip.startsWith('127.'))
  await fc.assert(fc.asyncProperty(forgedForwardedFor, real, async (forged, client) => {
    const run = `proxy-${++id}`
    runs.set(run, [['addProperty', 'run', run]])
    expected.set(run, client)
    // The client sent `forged`; the proxy (127.0.0.1, trusted) appended the address it saw.
    const response = await d.app.inject({ url: `/r/${run}`, headers: { 'x-run': run, 'x-forwarded-for': `${forged}, ${client}`, 'user-agent': 'Mozilla/5.0 proxied' } })
    return response.statusCode === 200
  }), { numRuns: 60 })
  await d.finish()
  checkClientIps(t, d, expected)
})

test('trustProxy: true believes the leftmost X-Forwarded-For entry, so any client can choose its clientIP (why the README says never use it)', async (t) => {
  const { d, runs } = await appWithActions(t, true)
  const expected = new Map<string, string>()
  let id = 0
  await fc.assert(fc.asyncProperty(ipv4, ipv4, async (forged, client) => {
    const run = `true-${++id}`
    runs.set(run, [['addProperty', 'run', run]])
    expected.set(run, forged)
    const response = await d.app.inject({ url: `/r/${run}`, headers: { 'x-run': run, 'x-forwarded-for': `${forged}, ${client}`, 'user-agent': 'Mozilla/5.0 trusting' } })
    return response.statusCode === 200
  }), { numRuns: 20 })
  await d.finish()
  checkClientIps(t, d, expected)
})

/** Every run's event reached every destination with the expected client IP (GA4 ip_override, Plausible X-Forwarded-For, webhook clientIP). */
function checkClientIps (t: TapTest, d: Destinations, expected: Map<string, string>): void {
  const seen = { ga4: new Map<string, string>(), plausible: new Map<string, string>(), webhook: new Map<string, string>() }
  // Each run's event carries its run id as a property (URLs may be cut by a forged, long Host).
  for (const request of d.sinks.ga4.requests) {
    const body = JSON.parse(request.body.toString('utf8')) as { ip_override?: string, events: Array<{ params: { run?: string } }> }
    for (const event of body.events) seen.ga4.set(String(event.params.run), body.ip_override ?? '')
  }
  for (const request of d.sinks.plausible.requests) {
    const body = JSON.parse(request.body.toString('utf8')) as { props?: { run?: string } }
    seen.plausible.set(String(body.props?.run), String(request.headers['x-forwarded-for']))
  }
  for (const request of d.sinks.webhook.requests) {
    const body = JSON.parse(request.body.toString('utf8')) as { events: Array<{ properties: { run?: string }, clientIP: string }> }
    for (const event of body.events) seen.webhook.set(String(event.properties.run), event.clientIP)
  }
  for (const [name, map] of Object.entries(seen)) {
    const wrong = [...expected].filter(([run, ip]) => map.get(run) !== ip).map(([run, ip]) => `${run}: expected ${ip}, got ${String(map.get(run))}`)
    t.same(wrong.slice(0, 5), [], `${name}: all ${expected.size} events carry the expected client IP`)
  }
}

test('forged _ga cookies: GA4\'s client_id is the cookie\'s id when it is well-formed, else the derived one; always GA-shaped', async (t) => {
  const { d, runs } = await appWithActions(t, false)
  let id = 0
  const cookies = new Map<string, string>()
  await fc.assert(fc.asyncProperty(cookieHeader, async (cookie) => {
    const run = `ga-${++id}`
    runs.set(run, [['addProperty', 'run', run]])
    cookies.set(run, cookie)
    const response = await d.app.inject({ url: `/r/${run}`, headers: { 'x-run': run, cookie, 'user-agent': 'Mozilla/5.0 cookies' } })
    return response.statusCode === 200
  }), { numRuns: 150 })
  await d.finish()
  let fromCookie = 0
  for (const request of d.sinks.ga4.requests) {
    const body = JSON.parse(request.body.toString('utf8')) as { client_id: string, events: Array<{ params: { run: string, session_id: number } }> }
    t.match(body.client_id, /^\d{1,20}\.\d{1,20}$/, 'client_id has GA\'s shape')
    for (const event of body.events) {
      t.ok(Number.isSafeInteger(event.params.session_id) && event.params.session_id >= 1, 'session_id is a positive integer')
      const cookie = cookies.get(event.params.run) ?? ''
      // The first `_ga=` cookie, if well-formed, is the browser's id (GA stitches the session to it).
      const first = /(?:^|;\s*)_ga=([^;]*)/.exec(cookie.slice(0, 8192))?.[1]?.trim()
      const wellFormed = first !== undefined && first.length <= 128 ? /^GA\d\.[0-9-]{1,8}\.(\d{1,20}\.\d{1,20})$/.exec(first)?.[1] : undefined
      if (wellFormed !== undefined) {
        fromCookie++
        t.equal(body.client_id, wellFormed, 'a well-formed _ga cookie gives the client id')
      }
    }
  }
  t.ok(fromCookie > 0, `${fromCookie} events took their client id from a forged but well-formed _ga cookie`)
})
