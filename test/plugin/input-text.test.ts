import { test } from 'tap'
import Fastify from 'fastify'
import analytics, {
  EventType, MAX_NAME_LENGTH, MAX_USER_ID_LENGTH, MAX_PROPERTY_KEY_LENGTH, MAX_PROPERTY_VALUE_LENGTH, MAX_HOSTNAME_LENGTH,
  MAX_METHOD_LENGTH, MAX_LOCALE_LENGTH, MAX_FIELD_LENGTH, type AnalyticsEventJSON
} from '../../lib/index.js'
import { memoryCollector } from '../../lib/testing.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { startSink, type Sink } from '../helpers/sink.js'
import { COUNT_EVERYTHING, type TapTest } from '../helpers/collectors.js'

// A lone high surrogate and a NUL: what a visitor can put in any text the app copies into an event.
const BAD = 'x\uD800y\u0000z'
const CLEAN = 'x\uFFFDyz'

async function build (t: TapTest) {
  const sink = await startSink({ policy: () => ({ kind: 'respond', status: 204 }) })
  const memory = memoryCollector()
  const app = Fastify()
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    // Keep every query parameter and skip email redaction: what is checked here is the text itself.
    privacy: { query: 'keep', redactEmails: false },
    collectors: [memory, webhookCollector({ url: `${sink.origin}/hook`, ip: 'full' })]
  })
  t.teardown(() => sink.close())
  t.teardown(() => app.close())
  return { app, memory, sink }
}

// Written out rather than String#isWellFormed, which the project's ES2022 lib does not type.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function wellFormed (text: string): boolean {
  return !LONE_SURROGATE.test(text)
}

type App = Awaited<ReturnType<typeof build>>['app']

/** Every string inside `value` (keys included), with its path. */
function strings (value: unknown, path = '$'): Array<[string, string]> {
  if (typeof value === 'string') return [[path, value]]
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, inner]) => [[`${path}.key`, key] as [string, string], ...strings(inner, `${path}.${key}`)])
}

function assertValidText (t: TapTest, label: string, value: unknown): void {
  const bad = strings(value).filter(([, text]) => !wellFormed(text) || text.includes('\u0000'))
  t.same(bad.map(([path]) => path), [], `${label}: every string is valid Unicode without NUL`)
}

/** The webhook bodies as bytes: a lone surrogate or NUL would travel as a `\udXXX` / `\u0000` escape. */
async function webhookEvents (t: TapTest, app: App, sink: Sink, count: number): Promise<AnalyticsEventJSON[]> {
  await app.analytics.flush()
  await sink.waitForRequests(1)
  const events: AnalyticsEventJSON[] = []
  for (const request of sink.requests) {
    const text = request.body.toString('utf8')
    t.notMatch(text, /\\u(?:d[89a-f][0-9a-f]{2}|0000)/i, 'the body carries no surrogate or NUL escape')
    events.push(...(JSON.parse(text) as { events: AnalyticsEventJSON[] }).events)
  }
  t.equal(events.length, count)
  return events
}

test('a lone surrogate and a NUL in every string field of track() come out as valid Unicode', async (t) => {
  const { app, memory, sink } = await build(t)
  await app.ready()
  app.analytics.track({
    type: EventType.Custom,
    eventName: BAD,
    actionName: BAD,
    clientIP: BAD,
    locale: BAD,
    hostname: BAD,
    userId: BAD,
    matchedPattern: BAD,
    url: `https://shop.example/${BAD}`,
    path: `/${BAD}`,
    method: BAD,
    userAgent: BAD,
    referrer: `https://ref.example/${BAD}`,
    properties: { [BAD]: BAD }
  })
  t.equal(memory.events.length, 1)
  const [event] = memory.events
  t.match(event, {
    eventName: CLEAN,
    actionName: CLEAN,
    clientIP: CLEAN,
    locale: CLEAN,
    hostname: CLEAN,
    userId: CLEAN,
    matchedPattern: CLEAN,
    url: `https://shop.example/${CLEAN}`,
    path: `/${CLEAN}`,
    method: CLEAN,
    userAgent: CLEAN,
    referrer: `https://ref.example/${CLEAN}`
  })
  t.same(event.properties, { [CLEAN]: CLEAN })
  assertValidText(t, 'memoryCollector', event)
  const [sent] = await webhookEvents(t, app, sink, 1)
  t.equal(sent.eventName, CLEAN)
  t.same(sent.properties, { [CLEAN]: CLEAN })
  assertValidText(t, 'webhook body', sent)
})

test('a lone surrogate and a NUL through app.inject and request.analytics come out as valid Unicode', async (t) => {
  const { app, memory, sink } = await build(t)
  app.post('/in', { config: { analytics: { action: BAD } } }, async (request) => {
    request.analytics.setUserId(BAD)
    request.analytics.addProperty(BAD, BAD)
    request.analytics.track({ type: EventType.Custom, eventName: BAD, properties: { [BAD]: BAD } })
    return 'ok'
  })
  app.get('/page', async (request) => {
    request.analytics.setEventName(BAD)
    return 'ok'
  })
  const headers = { 'user-agent': BAD, referer: `https://ref.example/${BAD}`, 'accept-language': BAD }
  t.equal((await app.inject({ method: 'POST', url: '/in', headers })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/page', headers })).statusCode, 200)
  t.equal(memory.events.length, 3)
  const [tracked, action, page] = memory.events
  t.match(tracked, { eventName: CLEAN, userAgent: CLEAN, referrer: `https://ref.example/${CLEAN}` })
  t.same(tracked.properties, { [CLEAN]: CLEAN })
  t.match(action, { actionName: CLEAN, userId: CLEAN, userAgent: CLEAN })
  t.same(action.properties, { [CLEAN]: CLEAN })
  t.match(page, { type: 'custom', eventName: CLEAN })
  for (const event of memory.events) assertValidText(t, `memoryCollector ${event.type}`, event)
  for (const event of await webhookEvents(t, app, sink, 3)) assertValidText(t, `webhook ${event.type}`, event)
})

test('a megabyte in userId, eventName or a property is cut to its cap and counted, never dropped', async (t) => {
  const { app, memory } = await build(t)
  const megabyte = 'a'.repeat(1 << 20)
  app.post('/in', async (request) => {
    request.analytics.setUserId(megabyte)
    request.analytics.setEventName(megabyte)
    request.analytics.addProperty('value', megabyte)
    request.analytics.addProperty(megabyte, 'key')
    return 'ok'
  })
  await app.ready()
  app.analytics.track({ type: EventType.Custom, eventName: megabyte, userId: megabyte, method: megabyte, locale: megabyte, properties: { value: megabyte } })
  t.equal(app.analytics.stats().events.truncated, 5, 'eventName, userId, method, locale and a property value cut')
  t.equal((await app.inject({ method: 'POST', url: '/in', headers: { host: `${'h'.repeat(300)}.example` } })).statusCode, 200)
  t.equal(app.analytics.stats().events.truncated, 5 + 5, 'userId, eventName, a value, a key and the hostname cut')
  t.equal(memory.events.length, 2, 'no event was dropped')
  const [tracked, automatic] = memory.events
  t.equal(tracked.eventName.length, MAX_NAME_LENGTH)
  t.equal(tracked.userId.length, MAX_USER_ID_LENGTH)
  t.equal(tracked.method.length, MAX_METHOD_LENGTH)
  t.equal(tracked.locale.length, MAX_LOCALE_LENGTH)
  t.equal((tracked.properties.value as string).length, MAX_PROPERTY_VALUE_LENGTH)
  t.equal(automatic.eventName.length, MAX_NAME_LENGTH)
  t.equal(automatic.userId.length, MAX_USER_ID_LENGTH)
  t.equal(automatic.hostname.length, MAX_HOSTNAME_LENGTH)
  t.equal((automatic.properties.value as string).length, MAX_PROPERTY_VALUE_LENGTH)
  t.same(Object.keys(automatic.properties).map((key) => key.length).sort((a, b) => a - b), [5, MAX_PROPERTY_KEY_LENGTH])
  t.equal(app.analytics.stats().events.invalid, 0)
  t.equal(app.analytics.stats().events.propertiesDropped, 0)
})

test('a cut never splits a surrogate pair, and text at its cap is not counted', async (t) => {
  const { app, memory } = await build(t)
  await app.ready()
  // MAX_FIELD_LENGTH code points that are each two UTF-16 units: exactly at the cap.
  const emoji = '😀'.repeat(MAX_FIELD_LENGTH)
  app.analytics.track({ type: EventType.PageView, url: `https://shop.example/${emoji}`, path: `/${emoji}` })
  t.equal(app.analytics.stats().events.truncated, 2)
  const [event] = memory.events
  t.ok(wellFormed(event.url) && wellFormed(event.path), 'no half pair at the end')
  t.equal([...event.path].length, MAX_FIELD_LENGTH)
  app.analytics.track({ type: EventType.PageView, userAgent: emoji })
  t.equal(app.analytics.stats().events.truncated, 2, 'a user agent of exactly MAX_FIELD_LENGTH code points is whole')
  t.equal(memory.events[1].userAgent, emoji)
})
