// The demo: a real Fastify server on 127.0.0.1, real HTTP requests, events printed by the stdout
// collector (one NDJSON line each, on stdout), the stats, and a graceful shutdown.
// Run it with `npm run demo` (after `npm ci` or `npm install`).
import Fastify from 'fastify'
import analytics, { EventType, Money, trackAnalyticsEvent } from 'fastify-analytics'
import { stdoutCollector } from 'fastify-analytics/stdout'

// The app's own logs (requests, the shutdown summary) go to stderr, so stdout holds only analytics lines.
const app = Fastify({ logger: { level: 'info', stream: process.stderr } })

await app.register(analytics, { collectors: [stdoutCollector()] })

// Somewhere deep in the application: no request object passed around.
async function subscribe (email) {
  await new Promise((resolve) => setTimeout(resolve, 5))
  trackAnalyticsEvent({ type: EventType.Custom, eventName: 'newsletter.subscribed', properties: { domain: email.split('@')[1] } })
}

// A page: HTML responses are page views (the default pageViews: 'html').
app.get('/products/:slug', async (request, reply) => reply.type('text/html').send(`<h1>${request.params.slug}</h1>`))

// A JSON API read: not a page, so no event (counted in stats().events.skipped.notPage).
app.get('/api/stock/:slug', async (request) => ({ product: request.params.slug, stock: 3 }))

app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async (request) => {
  request.analytics.setRevenue(Money.fromMinor(2999, 'GBP'))
  request.analytics.addProperty('plan', 'annual')
  return { ok: true }
})

app.get('/search', async (request) => {
  request.analytics.setEventName('search.submitted') // this request's page view becomes a custom event
  request.analytics.addProperty('query', String(request.query.q ?? ''))
  return { results: [] }
})

app.post('/newsletter', async (request) => {
  await subscribe(request.body.email)
  return { subscribed: true }
})

app.get('/health', { config: { analytics: false } }, async () => 'ok')

const origin = await app.listen({ port: 0, host: '127.0.0.1' })
const browser = {
  'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'accept-language': 'en-GB,en;q=0.8',
  referer: 'https://search.example/'
}

async function send (method, path, body, extraHeaders = {}) {
  const headers = { ...browser, ...extraHeaders }
  const response = await fetch(origin + path, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  await response.arrayBuffer()
  process.stderr.write(`demo: ${method} ${path} → ${response.status}\n`)
}

await send('GET', '/products/red-shoes?ref=home') // page view, with client: Safari on macOS, desktop
await send('GET', '/api/stock/red-shoes') // JSON: no event (skipped: notPage)
await send('GET', '/products/red-shoes', undefined, { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' }) // no event (skipped: bot)
await send('GET', '/products/blue-shoes', undefined, { 'sec-purpose': 'prefetch' }) // no event (skipped: prefetch)
await send('POST', '/checkout', { cart: 1 }) // action with revenue
await send('GET', '/search?q=boots') // promoted to a custom event
await send('POST', '/newsletter', { email: 'ada@example.org' }) // custom event from a helper, plus the action
await send('GET', '/nowhere') // Fastify's JSON 404: not a page, no event (an HTML 404 page would be a page view)
await send('DELETE', '/nowhere') // matched no route and not a GET: no event (skipped: noRoute)
await send('GET', '/health') // no event (route config; skipped: ignored)

process.stderr.write('demo: stats before shutdown ' + JSON.stringify(app.analytics.stats()) + '\n')
await app.close() // flushes, then closes every collector; one summary log line per collector, one for the events
process.stderr.write('demo: stats after shutdown ' + JSON.stringify(app.analytics.stats().collectors) + '\n')
