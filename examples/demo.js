// The demo: a real Fastify app on 127.0.0.1 that stores its analytics in an embedded DuckDB file
// and mounts the dashboard, then real HTTP requests from made-up visitors (several channels,
// countries and browsers, two crawlers, a checkout). Open the printed URL to see the numbers.
// Run it with `npm run demo`: it serves the dashboard for DEMO_SERVE_SECONDS (60 by default; 0 exits
// at once, `--once` too), then shuts down gracefully; Ctrl-C stops it earlier.
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import analytics, { Money } from 'fastify-analytics'
import { duckdbCollector } from 'fastify-analytics/duckdb'
import { analyticsDashboard } from 'fastify-analytics/dashboard'

const file = join(tmpdir(), `fastify-analytics-demo-${process.pid}.duckdb`)
const store = duckdbCollector({ path: file })

// Requests come from 127.0.0.1 with X-Forwarded-For, as behind a load balancer: trust only that hop.
const app = Fastify({ logger: { level: 'warn', stream: process.stderr }, trustProxy: '127.0.0.1' })
// The country comes from a CDN-style header here: the made-up visitors use documentation IPs.
await app.register(analytics, { collectors: [store], geo: { header: 'x-demo-country' } })
await app.register(analyticsDashboard, {
  prefix: '/analytics',
  source: store,
  // Your session or role check goes here; the demo lets in only this machine.
  access: (request) => request.socket.remoteAddress === '127.0.0.1'
})

const page = (title) => async (_request, reply) => reply.type('text/html').send(`<h1>${title}</h1>`)
app.get('/', page('Home'))
app.get('/pricing', page('Pricing'))
app.get('/docs', page('Docs'))
app.get('/products/:slug', page('Product'))
app.get('/blog/:slug', page('Blog'))
app.post('/cart', { config: { analytics: { action: 'add_to_cart' } } }, async () => ({ ok: true }))
app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async (request) => {
  request.analytics.setRevenue(Money.fromMinor(request.body.minor, request.body.currency))
  return { ok: true }
})

const origin = await app.listen({ port: 0, host: '127.0.0.1' })

const BROWSERS = {
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  safariPhone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  firefox: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  chromeAndroid: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  edge: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
  ipad: 'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
}

// Who arrives from where: [browser, country, referrer, landing URL, pages after it, what they buy].
const VISITORS = [
  ['chrome', 'GB', 'https://www.google.com/', '/', ['/pricing', '/products/red-shoes'], { minor: 4999, currency: 'GBP' }],
  ['safariPhone', 'US', 'https://www.google.com/', '/products/red-shoes', ['/products/blue-shoes']],
  ['firefox', 'DE', 'https://news.ycombinator.com/item?id=1', '/blog/own-your-data', ['/docs', '/pricing']],
  ['safariMac', 'US', '', '/?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale', ['/products/red-shoes'], { minor: 12900, currency: 'USD' }],
  ['chromeAndroid', 'IN', 'https://www.google.com/', '/blog/own-your-data', []],
  ['edge', 'FR', 'https://www.bing.com/', '/docs', ['/pricing']],
  ['chrome', 'BR', '', '/?gclid=demo123&utm_campaign=brand', ['/pricing', '/products/blue-shoes']],
  ['safariPhone', 'JP', 'https://t.co/abc', '/blog/own-your-data', []],
  ['ipad', 'CA', 'https://www.facebook.com/', '/products/blue-shoes', ['/']],
  ['firefox', 'GB', '', '/', ['/docs']],
  ['chrome', 'US', 'https://duckduckgo.com/', '/docs', ['/docs', '/pricing']],
  ['safariMac', 'DE', 'https://github.com/', '/', ['/blog/own-your-data']],
  ['chromeAndroid', 'GB', 'https://www.google.com/', '/pricing', []],
  ['chrome', 'NL', '', '/?utm_source=newsletter&utm_medium=email&utm_campaign=spring-sale', ['/pricing']]
]
const CRAWLERS = [
  ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', '/products/red-shoes'],
  ['Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', '/blog/own-your-data']
]

async function send (headers, method, path, body) {
  const response = await fetch(origin + path, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  await response.arrayBuffer()
  return response.status
}

let requests = 0
for (const [i, [browser, country, referrer, landing, next, purchase]] of VISITORS.entries()) {
  // A documentation address per visitor (RFC 5737): a distinct, daily-hashed visitor id each.
  const headers = { 'user-agent': BROWSERS[browser], 'x-forwarded-for': `198.51.100.${i + 10}`, 'x-demo-country': country, 'accept-language': 'en' }
  await send(referrer === '' ? headers : { ...headers, referer: referrer }, 'GET', landing)
  for (const path of next) await send({ ...headers, referer: origin + '/' }, 'GET', path)
  if (purchase !== undefined) {
    await send(headers, 'POST', '/cart', {})
    await send(headers, 'POST', '/checkout', purchase)
  }
  requests += 1 + next.length + (purchase === undefined ? 0 : 2)
  process.stdout.write(`demo: ${browser} from ${country}, ${referrer === '' ? 'direct' : new URL(referrer).hostname}: ${1 + next.length} page${next.length === 0 ? '' : 's'}${purchase === undefined ? '' : ', a checkout'}\n`)
}
for (const [ua, path] of CRAWLERS) await send({ 'user-agent': ua, 'x-forwarded-for': '66.249.66.1' }, 'GET', path)
process.stdout.write(`demo: 2 crawlers (not counted: bots: 'skip'); ${requests} requests from ${VISITORS.length} visitors\n`)

await app.analytics.flush()
const stats = app.analytics.stats().collectors.duckdb
process.stdout.write(`demo: ${stats.delivered} events stored in ${file}\n`)
process.stdout.write(`dashboard: ${origin}/analytics/?period=today&interval=hour\n`)

async function stop () {
  await app.close()
  for (const suffix of ['', '.wal']) rmSync(file + suffix, { force: true })
}
// Bounded, so `npm run demo` on a fresh machine always ends with the graceful shutdown.
const serveSeconds = process.argv.includes('--once') ? 0 : Number(process.env.DEMO_SERVE_SECONDS ?? 60)
if (!(serveSeconds > 0)) {
  await stop()
} else {
  process.stdout.write(`demo: serving the dashboard for ${serveSeconds} s (DEMO_SERVE_SECONDS); Ctrl-C to stop now\n`)
  let stopping
  const shutdown = () => { stopping ??= stop().then(() => process.stdout.write('demo: closed\n')) }
  const timer = setTimeout(shutdown, serveSeconds * 1000)
  process.once('SIGINT', () => { clearTimeout(timer); shutdown() })
  process.once('SIGTERM', () => { clearTimeout(timer); shutdown() })
}
