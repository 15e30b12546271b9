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

app.get('/products/:slug', async (request) => ({ product: request.params.slug }))

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
const browser = { 'user-agent': 'Mozilla/5.0 (demo)', 'accept-language': 'en-GB,en;q=0.8', referer: 'https://search.example/' }

async function send (method, path, body) {
  const response = await fetch(origin + path, {
    method,
    headers: body === undefined ? browser : { ...browser, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  await response.arrayBuffer()
  process.stderr.write(`demo: ${method} ${path} → ${response.status}\n`)
}

await send('GET', '/products/red-shoes?ref=home') // page view
await send('POST', '/checkout', { cart: 1 }) // action with revenue
await send('GET', '/search?q=boots') // promoted to a custom event
await send('POST', '/newsletter', { email: 'ada@example.org' }) // custom event from a helper, plus the action
await send('GET', '/nowhere') // 404: a page view with an empty pattern
await send('GET', '/health') // no event (route config)

process.stderr.write('demo: stats before shutdown ' + JSON.stringify(app.analytics.stats()) + '\n')
await app.close() // flushes, then closes every collector; one summary log line per collector
process.stderr.write('demo: stats after shutdown ' + JSON.stringify(app.analytics.stats().collectors) + '\n')
