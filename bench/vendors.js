// The plugin's Segment and Umami collectors beside @segment/analytics-node doing the same job (issue
// 25): in-process, CPU time per request (process.cpuUsage: on a shared machine other processes
// distort it less than throughput under autocannon, which §1 and §2 measure with the `segment`,
// `segment-plugin` and `umami` configs), configurations interleaved round by round, every event
// delivered to a local sink and counted there. Run after `npm run build`:
//
//   node bench/vendors.js
//
// Prints CPU µs per request of each configuration, what it adds to bare Fastify, the SDK's ÷ the
// collector's (capacity ratio: issue 25's target is ≥ 3), and events generated vs received by the
// sink after close (the collectors count every drop in stats(); the SDK counts nothing).
// Bounded: ROUNDS × REQUESTS injects per configuration, and a 240 s ceiling.
import { createServer } from 'node:http'
import Fastify from 'fastify'
import { Analytics } from '@segment/analytics-node'
import { BROWSER_HEADERS, median, userAgent, VISITORS } from './common.js'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const REQUESTS = Number(process.env.REQUESTS ?? 4000)
const WARMUP = 200
const DEADLINE = Date.now() + 240_000
const dist = new URL('../dist/lib/', import.meta.url)
const { default: analytics } = await import(new URL('index.js', dist).href)
const { segmentCollector } = await import(new URL('collectors/segment.js', dist).href)
const { umamiCollector } = await import(new URL('collectors/umami.js', dist).href)

// The sink: Segment's /v1/batch and Umami's /api/send, counting the events they receive.
let received = 0
const sink = createServer((req, res) => {
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    received += req.url === '/api/send' ? 1 : JSON.parse(Buffer.concat(chunks).toString()).batch.length
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{}')
  })
})
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve))
const origin = `http://127.0.0.1:${sink.address().port}`
const discard = { name: 'discard', start () {}, collect () {}, flush () {}, close () {} }
const page = '<!doctype html><title>Bench product</title><h1>Product</h1><p>£29.99</p>'

async function build (config) {
  const app = Fastify({ logger: false })
  let close = async () => {}
  let collector
  if (config === 'discard') collector = discard
  if (config === 'segment-plugin') collector = segmentCollector({ writeKey: 'bench', endpoint: origin })
  if (config === 'umami') collector = umamiCollector({ websiteId: '6a0f3c1e-2b4d-4e5f-8a9b-0c1d2e3f4a5b', baseUrl: origin })
  if (collector !== undefined) await app.register(analytics, { collectors: [collector] })
  if (config === 'segment') {
    // As bench/app.js: one page() per request in onResponse, the SDK's defaults but the host.
    const client = new Analytics({ writeKey: 'bench', host: origin })
    close = () => client.closeAndFlush({ timeout: 10_000 })
    app.addHook('onResponse', function segmentOnResponse (request, reply, done) {
      client.page({
        anonymousId: request.ip,
        name: request.routeOptions.url,
        properties: { url: `${request.protocol}://${request.host}${request.url}`, path: request.url, referrer: request.headers.referer, status: reply.statusCode, durationMs: reply.elapsedTime },
        context: { ip: request.ip, userAgent: request.headers['user-agent'] }
      })
      done()
    })
  }
  app.get('/products/:id', async (request, reply) => {
    reply.type('text/html; charset=utf-8')
    return page
  })
  await app.ready()
  return { app, close: async () => { await app.close(); await close() }, stats: () => collector === undefined || collector === discard ? undefined : app.analytics.stats().collectors[collector.name] }
}

const inject = (app, i) => app.inject({
  url: `/products/${1000 + (i % VISITORS)}`,
  headers: { ...BROWSER_HEADERS, 'user-agent': userAgent(i % VISITORS) },
  remoteAddress: `198.51.100.${i % VISITORS}`
})

const CONFIGS = ['bare', 'discard', 'segment-plugin', 'segment', 'umami']
const cpu = Object.fromEntries(CONFIGS.map((config) => [config, []]))
const loss = Object.fromEntries(CONFIGS.map((config) => [config, []]))
for (let round = 0; round < ROUNDS && Date.now() < DEADLINE; round++) {
  for (const config of CONFIGS) {
    const { app, close, stats } = await build(config)
    received = 0
    for (let i = 0; i < WARMUP; i++) await inject(app, i)
    // The window ends once close() has delivered everything: sending is part of the job (batches
    // and the SDK's timers would otherwise leave it outside the window).
    const start = process.cpuUsage()
    for (let i = 0; i < REQUESTS; i++) await inject(app, i)
    await close()
    const used = process.cpuUsage(start)
    cpu[config].push((used.user + used.system) / REQUESTS)
    if (config !== 'bare' && config !== 'discard') {
      // Generated − received by the sink − dropped and counted in stats() (the SDK counts nothing).
      const final = stats()
      const counted = final === undefined ? 0 : Object.values(final.dropped).reduce((a, b) => a + b, 0)
      loss[config].push(WARMUP + REQUESTS - received - counted)
    }
  }
}
await new Promise((resolve) => sink.close(resolve))

const bare = cpu.bare
const lines = []
for (const config of CONFIGS) {
  const added = cpu[config].map((value, i) => value - bare[i])
  lines.push(`${config.padEnd(15)} ${median(cpu[config]).toFixed(1).padStart(7)} µs/request  added ${median(added).toFixed(1).padStart(6)} µs` +
    (loss[config].length > 0 ? `  uncounted loss per round ${loss[config].join(', ')}` : ''))
}
const ratio = cpu.segment.map((value, i) => value / cpu['segment-plugin'][i])
lines.push(`capacity × the SDK (segment µs ÷ segment-plugin µs, per round): ${median(ratio).toFixed(2)} (${ratio.map((r) => r.toFixed(2)).join(', ')}); target ≥ 3`)
process.stdout.write(lines.join('\n') + '\n')
