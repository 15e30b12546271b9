'use strict'
// A CommonJS app as the official Fastify plugins' users write one. Run by test/module-formats.test.ts
// with --no-experimental-require-module, so it cannot be loading the ESM build through require(esm).
const http = require('node:http')
const Fastify = require('fastify')
const analyticsModule = require('fastify-analytics')
const { analytics, EventType, Money } = require('fastify-analytics')
const { memoryCollector } = require('fastify-analytics/testing')
const subpaths = ['stdout', 'ga4', 'plausible', 'webhook', 'batch'].map((name) => Object.keys(require(`fastify-analytics/${name}`)))

async function main () {
  const collector = memoryCollector()
  const app = Fastify()
  // The module object itself, as `app.register(require('@fastify/cors'))` is written.
  await app.register(analyticsModule, { collectors: [collector] })
  app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async (request) => {
    request.analytics.setRevenue(Money.fromMinor(2999, 'GBP'))
    return 'ok'
  })
  // A real request: app.inject's light-my-request 6.8 requires the ESM-only cookie 2, so inject itself
  // needs require(esm) (Node 20.19+ without the flag).
  await app.listen({ port: 0, host: '127.0.0.1' })
  await new Promise((resolve, reject) => {
    // A browser's User-Agent: a request without one counts as a bot, and bots give no automatic event.
    const request = http.request({ host: '127.0.0.1', port: app.server.address().port, method: 'POST', path: '/checkout', timeout: 5000, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' } }, (response) => {
      response.resume()
      response.on('end', resolve)
    })
    request.on('error', reject)
    request.on('timeout', () => request.destroy(new Error('timed out')))
    request.end()
  })
  app.analytics.track({ type: EventType.Custom, eventName: 'from.cjs' })
  await app.close()
  process.stdout.write(JSON.stringify({
    sameFunction: analyticsModule.default === analytics,
    moduleIsPlugin: analyticsModule === analytics && analyticsModule.Money === Money,
    events: collector.events.map((event) => [event.type, event.actionName || event.eventName, event.revenue?.amount ?? null]),
    subpaths
  }))
}
main().catch((error) => { console.error(error); process.exit(1) })
