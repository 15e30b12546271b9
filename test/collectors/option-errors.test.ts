import { test } from 'tap'
import { stdoutCollector } from '../../lib/collectors/stdout.js'
import { ga4Collector } from '../../lib/collectors/ga4.js'
import { plausibleCollector } from '../../lib/collectors/plausible.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { mixpanelCollector } from '../../lib/collectors/mixpanel.js'
import { posthogCollector } from '../../lib/collectors/posthog.js'

// Every built-in collector refuses a misspelt option (it would otherwise be silently ignored) with
// the same message shape: `<factory>: <what is wrong>`, the factory named so the user finds the call.
const misspelt: Array<[string, () => unknown]> = [
  ['stdoutCollector', () => stdoutCollector({ dest: 2 } as never)],
  ['ga4Collector', () => ga4Collector({ measurementId: 'G-TEST123', apiSecret: 'not-a-real-secret', region: 'eu', endpont: 'x' } as never)],
  ['plausibleCollector', () => plausibleCollector({ domain: 'example.com', baseURL: 'https://plausible.example' } as never)],
  ['webhookCollector', () => webhookCollector({ url: 'https://hooks.example/analytics', secrets: 'x' } as never)],
  ['mixpanelCollector', () => mixpanelCollector({ projectToken: 'token', secret: 'x' } as never)],
  ['posthogCollector', () => posthogCollector({ apiKey: 'phc_key', api_host: 'https://eu.i.posthog.com' } as never)]
]

for (const [factory, create] of misspelt) {
  test(`${factory} refuses an unknown option as "${factory}: unknown option …"`, async (t) => {
    t.throws(create, { code: 'FST_ANALYTICS_INVALID_OPTION', message: new RegExp(`^Invalid fastify-analytics option: ${factory}: unknown option "`) })
  })
}

test('stdoutCollector errors use the "stdoutCollector: " prefix like the others', async (t) => {
  t.throws(() => stdoutCollector({ level: 'loud' as never }), { message: /^Invalid fastify-analytics option: stdoutCollector: level must be one of/ })
  t.throws(() => stdoutCollector({ name: '' }), { message: /^Invalid fastify-analytics option: stdoutCollector: name must be a non-empty string/ })
  t.throws(() => stdoutCollector(null as never), { message: /^Invalid fastify-analytics option: stdoutCollector: options must be an object/ })
})
