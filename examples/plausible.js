// Plausible collector against a local receiver standing in for plausible.io.
// Sends: a pageview of / (an HTML page, from a utm_source campaign) and a custom "Signup" event.
// npm run build && node examples/plausible.js
import Fastify from 'fastify'
import analytics from 'fastify-analytics'
import { plausibleCollector } from 'fastify-analytics/plausible'
import { browse, startReceiver } from './receiver.js'

const plausible = await startReceiver('plausible', (req, res) => {
  console.log('  user-agent:', req.headers['user-agent'], '| x-forwarded-for:', req.headers['x-forwarded-for'])
  res.writeHead(202).end('ok')
})
const app = Fastify({ logger: { level: 'info', stream: process.stderr } })
await app.register(analytics, { collectors: [plausibleCollector({ domain: 'shop.example', baseUrl: plausible.origin })] })
// Under the default pageViews: 'html', a GET gives a page view when it answers HTML.
app.get('/', async (request, reply) => reply.type('text/html').send('<h1>home</h1>'))
app.post('/newsletter', async (request) => {
  request.analytics.setEventName('Signup')
  request.analytics.addProperty('list', 'weekly')
  return 'subscribed'
})
const origin = await app.listen({ port: 0, host: '127.0.0.1' })
await browse(origin, [['GET', '/?utm_source=example'], ['POST', '/newsletter']])
await app.close()
console.log('stats', JSON.stringify(app.analytics.stats().collectors.plausible))
await plausible.close()
