// A custom HTTP collector on the shared delivery engine: NDJSON batches to a log-ingest endpoint,
// with the engine's bounded queue, batching, retries, accounting and shutdown handling.
// Sends: three page views of / in NDJSON batches; the receiver answers the first request 503, so the
// engine retries that batch and the stats show retries: 1, delivered: 3.
// npm run build && node examples/custom-collector.js
import Fastify from 'fastify'
import analytics, { eventToJSON } from 'fastify-analytics'
import { DeliveryEngine, defaultInterpret } from 'fastify-analytics/batch'
import { startReceiver } from './receiver.js'

function ndjsonCollector ({ url, token, ...batching }) {
  const { origin, pathname } = new URL(url)
  const engine = new DeliveryEngine({
    ...batching, // maxQueueSize, maxBatchSize, flushIntervalMs, concurrency, timeoutMs, retry, dispatcher
    name: 'ndjson',
    origin,
    defaults: { maxBatchSize: 200, flushIntervalMs: 1000, concurrency: 1 },
    adapter: {
      // Off the request path: one request per batch. The request is built once and re-sent as is on retries.
      prepare (lines) {
        return {
          requests: [{ path: pathname, headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` }, body: lines.join('\n') + '\n', events: lines.length }],
          invalid: 0
        }
      },
      interpret: defaultInterpret // 2xx delivered; 408/429/5xx retried (Retry-After honoured); other 4xx rejected
    }
  })
  return {
    name: 'ndjson',
    start: (signal, { log }) => engine.start(signal, log),
    collect: (event) => engine.enqueue(JSON.stringify(eventToJSON(event))), // snapshot: a string, nothing of the request
    flush: (signal) => engine.flush(signal),
    close: (signal) => engine.close(signal),
    stats: () => engine.stats() // so app.analytics.stats() reports what the engine delivered and dropped
  }
}

let calls = 0
const receiver = await startReceiver('ndjson', (req, res) => res.writeHead(++calls === 1 ? 503 : 200).end()) // fails once
const app = Fastify({ logger: { level: 'warn', stream: process.stderr } })
await app.register(analytics, { collectors: [ndjsonCollector({ url: `${receiver.origin}/ingest`, token: 'example-token', retry: { baseDelayMs: 50 } })] })
// Under the default pageViews: 'html', a GET gives a page view when it answers HTML.
app.get('/', async (request, reply) => reply.type('text/html').send('<h1>home</h1>'))
await app.ready()
// A browser's User-Agent: a request from a bot (or an unknown agent) gives no automatic event.
for (let i = 0; i < 3; i++) await app.inject({ url: `/?page=${i}`, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' } })
await app.close()
console.log('stats', JSON.stringify(app.analytics.stats().collectors.ndjson))
await receiver.close()
