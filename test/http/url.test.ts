import { test } from 'tap'
import { DeliveryEngine } from '../../lib/batch/engine.js'
import { ga4Collector } from '../../lib/collectors/ga4.js'
import { plausibleCollector } from '../../lib/collectors/plausible.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { batchAdapter } from '../helpers/engine-harness.js'

const TOKEN = 'tok3n-that-must-not-leak'

// Every option that takes a URL, built through its public constructor.
const OPTIONS: Array<[string, (value: unknown) => unknown]> = [
  ['origin', (origin) => new DeliveryEngine({ name: 'test', origin: origin as string, adapter: batchAdapter(), defaults: { maxBatchSize: 1, flushIntervalMs: 1, concurrency: 1 } })],
  ['endpoint', (endpoint) => ga4Collector({ measurementId: 'G-TEST1234', apiSecret: 'secret', endpoint: endpoint as string })],
  ['baseUrl', (baseUrl) => plausibleCollector({ domain: 'shop.example', baseUrl: baseUrl as string })],
  ['url', (url) => webhookCollector({ url: url as string })]
]

test('every URL option is checked alike, and no message quotes the value', async (t) => {
  const faults: Array<[string, unknown, RegExp]> = [
    ['not a string', 42, /must be a string like "https:\/\/host\[:port\]/],
    ['not absolute', `collector.example/?token=${TOKEN}`, /is not an absolute URL like "https:\/\/host\[:port\]/],
    ['not http', `ftp://collector.example/?token=${TOKEN}`, /must use http or https \(got "ftp:"\)/],
    ['credentials', `https://user:${TOKEN}@collector.example/`, /must not contain credentials: pass them as headers/],
    ['a fragment', `https://collector.example/#${TOKEN}`, /must (be scheme:\/\/host\[:port\] with no path, query or fragment|not have a query or fragment|not have a fragment)/]
  ]
  for (const [option, make] of OPTIONS) {
    for (const [fault, value, message] of faults) {
      let error: unknown
      try {
        make(value)
      } catch (caught) {
        error = caught
      }
      t.match(error, { code: 'FST_ANALYTICS_INVALID_OPTION', message }, `${option}: ${fault}`)
      t.match((error as Error).message, new RegExp(`\\b${option} `), `${option}: the message names the option`)
      t.notMatch((error as Error).message, TOKEN, `${option}: ${fault}: the value is not quoted`)
    }
  }
})

test('each option allows what its destination needs beyond the origin', async (t) => {
  const pathAndQuery = 'https://collector.example/prefix/hook?tenant=1'
  const path = 'https://collector.example/prefix/'
  const refused = (make: (value: unknown) => unknown, value: string): boolean => {
    try {
      make(value)
      return false
    } catch {
      return true
    }
  }
  const [origin, endpoint, baseUrl, url] = OPTIONS.map(([, make]) => make)
  t.same([refused(origin, path), refused(endpoint, path), refused(baseUrl, path), refused(url, path)], [true, true, false, false], 'a path: a prefix for Plausible, a route for the webhook')
  t.same([refused(baseUrl, pathAndQuery), refused(url, pathAndQuery)], [true, false], 'a query: only the webhook sends one')
})
