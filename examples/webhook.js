// Webhook collector with Standard Webhooks signing, against a local receiver that verifies
// every batch with the `standardwebhooks` package.
// Sends: page views of /docs/intro and /docs/install (HTML pages) and a custom "nightly.report" event,
// in signed batches.
// npm run build && node examples/webhook.js
import Fastify from 'fastify'
import { Webhook } from 'standardwebhooks'
import analytics, { EventType } from 'fastify-analytics'
import { webhookCollector } from 'fastify-analytics/webhook'
import { browse, startReceiver } from './receiver.js'

const secret = 'whsec_' + Buffer.from('an example secret of 32 bytes!!').toString('base64')
const verifier = new Webhook(secret)
const receiver = await startReceiver('webhook', (req, res, body) => {
  try {
    const batch = verifier.verify(body, req.headers)
    console.log(`  verified batch ${batch.id} with ${batch.events.length} events`)
    res.writeHead(204).end()
  } catch (error) {
    console.log('  signature refused:', error.message)
    res.writeHead(400).end()
  }
})
const app = Fastify({ logger: { level: 'info', stream: process.stderr } })
await app.register(analytics, { collectors: [webhookCollector({ url: `${receiver.origin}/hooks/analytics`, secret })] })
// Under the default pageViews: 'html', a GET gives a page view when it answers HTML.
app.get('/docs/:page', async (request, reply) => reply.type('text/html').send(`<h1>${request.params.page}</h1>`))
const origin = await app.listen({ port: 0, host: '127.0.0.1' })
await browse(origin, [['GET', '/docs/intro'], ['GET', '/docs/install']])
app.analytics.track({ type: EventType.Custom, eventName: 'nightly.report', properties: { rows: 42 } })
await app.close()
console.log('stats', JSON.stringify(app.analytics.stats().collectors.webhook))
await receiver.close()
