import t from 'tap'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

// Each runnable example under examples/ sends to a local receiver (examples/receiver.js: 127.0.0.1,
// port 0) standing in for its destination. Run as published (they import 'fastify-analytics/…',
// resolved through the package's own exports against the build tap.config.ts made), with
// EXAMPLE_RECEIVED naming a file where the receiver records every request; the events each example
// says it sends (its header comment) must arrive there, by type and name. Issue 26: the examples
// browsed text/plain routes, sent no page view under pageViews: 'html', and still exited 0.
const run = promisify(execFile)
const root = new URL('../', import.meta.url)
const dir = mkdtempSync(join(tmpdir(), 'fastify-analytics-examples-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

interface Received { label: string, method: string, path: string, status: number, body: string }

async function runExample (name: string): Promise<{ received: Received[], stdout: string, stderr: string }> {
  const file = join(dir, `${name}.jsonl`)
  const { stdout, stderr } = await run(process.execPath, [`examples/${name}.js`], {
    cwd: root,
    timeout: 45_000,
    env: { ...process.env, EXAMPLE_RECEIVED: file }
  })
  const received = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Received) : []
  return { received, stdout, stderr }
}

const delivered = (received: Received[]): Received[] => received.filter((request) => request.status >= 200 && request.status < 300)

/** Each JSON event of a webhook body or an NDJSON body as `type name-or-path`. */
const described = (event: { type: string, eventName: string, actionName: string, path: string }): string =>
  `${event.type} ${event.eventName || event.actionName || event.path}`

t.test('examples/ga4.js: the page view and the checkout action with its revenue, as a purchase, reach the GA4 stand-in', async (t) => {
  const { received, stderr } = await runExample('ga4')
  const events = delivered(received).flatMap((request) => (JSON.parse(request.body) as { events: Array<{ name: string, params: Record<string, unknown> }> }).events)
  t.same(events.map((event) => event.name), ['page_view', 'purchase'])
  t.match(events[0].params, { page_location: /\/products\/red-shoes$/ })
  t.match(events[1].params, { currency: 'EUR', value: 49.99, transaction_id: /^[0-9a-f]{8}-[0-9a-f]{4}-7/ })
  t.ok(received.every((request) => request.path.startsWith('/mp/collect?')), 'to the Measurement Protocol path')
  t.notMatch(stderr, /"level":(50|60)/, 'no error logged')
})

t.test('examples/plausible.js: the page view and the custom Signup event reach the Plausible stand-in', async (t) => {
  const { received, stderr } = await runExample('plausible')
  const events = delivered(received).map((request) => JSON.parse(request.body) as { name: string, url: string, props?: Record<string, string> })
  t.same(events.map((event) => [event.name, new URL(event.url).pathname]), [['pageview', '/'], ['Signup', '/newsletter']])
  t.same(events[1].props, { list: 'weekly' })
  t.notMatch(stderr, /"level":(50|60)/, 'no error logged')
})

t.test('examples/webhook.js: two page views and the custom event arrive in batches the receiver verified', async (t) => {
  const { received, stdout, stderr } = await runExample('webhook')
  const events = delivered(received).flatMap((request) => (JSON.parse(request.body) as { events: Array<Parameters<typeof described>[0]> }).events)
  t.same(events.map(described), ['pageview /docs/intro', 'pageview /docs/install', 'custom nightly.report'])
  t.match(stdout, /verified batch [0-9a-f-]+ with 3 events/, 'signed, and the signature verified')
  t.notMatch(stdout, /signature refused/)
  t.notMatch(stderr, /"level":(50|60)/, 'no error logged')
})

t.test('examples/custom-collector.js: the three page views arrive, the first attempt refused with 503 and retried', async (t) => {
  const { received, stdout } = await runExample('custom-collector')
  t.equal(received[0]?.status, 503, 'the receiver refuses the first request')
  const lines = (request: Received): Array<Parameters<typeof described>[0] & { id: string }> => request.body.trim().split('\n').map((line) => JSON.parse(line))
  const refusedIds = lines(received[0]).map((event) => event.id)
  const arrived = delivered(received).flatMap(lines)
  t.same(arrived.map(described), ['pageview /', 'pageview /', 'pageview /'])
  t.same(arrived.slice(0, refusedIds.length).map((event) => event.id), refusedIds, 'the refused batch arrives on retry, unchanged')
  const stats = JSON.parse(/^stats (.*)$/m.exec(stdout)?.[1] ?? '{}') as { delivered?: number, retries?: number }
  t.match(stats, { delivered: 3, retries: 1 }, 'and the stats it prints say so')
})
