// GA4 collector against a local receiver standing in for www.google-analytics.com.
// Sends: a page_view of /products/red-shoes (an HTML page) and the "checkout" action with its revenue,
// which GA4 gets as a purchase (transaction_id, value, currency).
// npm run build && node examples/ga4.js
import Fastify from 'fastify'
import analytics, { Money } from 'fastify-analytics'
import { ga4Collector } from 'fastify-analytics/ga4'
import { browse, startReceiver } from './receiver.js'

const google = await startReceiver('ga4', (req, res) => res.writeHead(204).end())
const app = Fastify({ logger: { level: 'info', stream: process.stderr } })
await app.register(analytics, {
  collectors: [ga4Collector({ measurementId: 'G-EXAMPLE123', apiSecret: 'example-secret', endpoint: google.origin, flushIntervalMs: 200 })]
})
// Under the default pageViews: 'html', a GET gives a page view when it answers HTML.
app.get('/products/:slug', async (request, reply) => reply.type('text/html').send(`<h1>${request.params.slug}</h1>`))
app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async (request) => {
  request.analytics.setRevenue(Money.fromMinor(4999, 'EUR'))
  return 'thanks'
})
const origin = await app.listen({ port: 0, host: '127.0.0.1' })
await browse(origin, [['GET', '/products/red-shoes'], ['POST', '/checkout']])
await app.close() // flushes the batch to the receiver
console.log('stats', JSON.stringify(app.analytics.stats().collectors.ga4))
await google.close()
