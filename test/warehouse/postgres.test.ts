import { t as root, test } from 'tap'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import Fastify from 'fastify'
import analytics, { EventType } from '../../lib/index.js'
import { createEvent, type AnalyticsEvent } from '../../lib/event.js'
import { totalDropped } from '../../lib/collector.js'
import { postgresCollector, postgresTableDDL, type PostgresCollectorOptions, type PostgresCollector } from '../../lib/collectors/postgres.js'
import { logCapture, type LogCapture, type TapTest } from '../helpers/collectors.js'
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js'
import { startCutProxy } from '../helpers/servers/cut-proxy.js'
import { TABLE_CHECK_WAIT_MS } from '../../lib/collectors/warehouse/common.js'
import { expectedReports, expectedVisitReports, reportFixture, NO_VISIT_ROW, visitedEvent, crawlerFixture, expectedCrawlerFixtureReports, expectedCrawlerReports } from './fixture.js'
import { comparable, readReports } from './reports.js'

let tables = 0
/** A fresh table name per test: the tests share one server. */
const newTable = (): string => `events_${++tables}`

async function startCollector (t: TapTest, options: PostgresCollectorOptions): Promise<{ collector: PostgresCollector, logs: LogCapture }> {
  const logs = logCapture()
  const collector = postgresCollector({ flushIntervalMs: 20, retry: { baseDelayMs: 20, maxDelayMs: 200 }, ...options })
  await collector.start(AbortSignal.timeout(10_000), { log: logs.log })
  t.teardown(() => collector.close(AbortSignal.timeout(2000)))
  return { collector, logs }
}

/** Flushes and closes, then checks accepted = delivered + Σ dropped and that nothing is left. */
async function finish (t: TapTest, collector: PostgresCollector, accepted: number, deadlineMs = 20_000) {
  await collector.flush(AbortSignal.timeout(deadlineMs))
  await collector.close(AbortSignal.timeout(deadlineMs))
  const report = collector.stats()
  t.equal(report.delivered + totalDropped(report.dropped), accepted, 'accepted = delivered + Σ dropped')
  t.equal(report.queued + report.inFlight, 0, 'nothing left queued or in flight')
  return report
}

function customEvents (count: number, prefix = 'e'): AnalyticsEvent[] {
  const events: AnalyticsEvent[] = []
  for (let i = 0; i < count; i++) {
    const event = createEvent(EventType.Custom, new Date())
    event.eventName = `${prefix}${i}`
    events.push(event)
  }
  return events
}

const server: PostgresServer | undefined = await startPostgres(root as unknown as TapTest)

test('the shipped schema/postgres.sql is the table createTable makes', async (t) => {
  t.equal(readFileSync(new URL('../../schema/postgres.sql', import.meta.url), 'utf8'), postgresTableDDL('analytics_events'))
})

test('options that cannot work throw FST_ANALYTICS_INVALID_OPTION, naming the option and never the URL', async (t) => {
  const url = 'postgres://u:hunter2@127.0.0.1/db'
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{}, /exactly one of connectionString and pool/],
    [{ connectionString: url, pool: {} }, /exactly one/],
    [{ connectionString: 'mysql://x' }, /postgres:\/\//],
    [{ pool: { connect: 1 } }, /pg.Pool/],
    [{ connectionString: url, table: 'a;drop table x' }, /table must be/],
    [{ connectionString: url, table: 'a.b.c' }, /table must be/],
    [{ connectionString: url, createTable: 'yes' }, /createTable/],
    [{ connectionString: url, ip: 'partial' }, /ip must be/],
    [{ connectionString: url, dispatcher: {} }, /unknown option "dispatcher"/],
    [{ connectionString: url, maxBatchSize: 0 }, /maxBatchSize/]
  ]
  for (const [options, message] of cases) {
    let error: (Error & { code?: string }) | undefined
    try {
      postgresCollector(options as unknown as PostgresCollectorOptions)
    } catch (thrown) {
      error = thrown as Error & { code?: string }
    }
    t.equal(error?.code, 'FST_ANALYTICS_INVALID_OPTION', JSON.stringify(Object.keys(options)))
    t.match(error?.message, message)
    t.notOk(error?.message.includes('hunter2'), 'the password is never in the message')
  }
})

test('through the plugin: every field of an event lands in its typed column, once', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  const table = newTable()
  const collector = postgresCollector({ connectionString: db.url, table, createTable: true, flushIntervalMs: 10 })
  const app = Fastify({ trustProxy: '127.0.0.1' })
  await app.register(analytics, { collectors: [collector] })
  app.post('/orders/:id', { config: { analytics: { action: 'order' } } }, async (request) => {
    request.analytics.addProperty('note', 'tab\there\nnew line \\ and NUL\u0000')
    request.analytics.addProperty('plan', 'annual')
    return { ok: true }
  })
  await app.inject({
    method: 'POST',
    url: '/orders/7?x=1&utm_source=news&utm_medium=email&utm_campaign=spring',
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', 'x-forwarded-for': '8.8.8.77', referer: 'https://ref.example/a' },
    payload: {}
  })
  await app.close()
  const stats = app.analytics.stats().collectors.postgres
  t.equal(stats.delivered, 1)
  const rows = await db.query(`SELECT id::text, type, action_name, client_ip, path, url, method, user_agent, referrer, status_code,
    matched_pattern, revenue_minor, client_bot, properties, extract(epoch from timestamp) * 1000 AS ms,
    visitor_id, visit_id::text, visit_landing_path, visit_channel, visit_source, visit_medium, visit_campaign, country FROM ${table}`)
  t.equal(rows.length, 1)
  const row = rows[0]
  // The visit, its campaign and the country, computed by the plugin from the request, in their columns.
  t.match(row, {
    visitor_id: /^[0-9a-f]{32}$/,
    visit_id: /^[0-9a-f]{8}-[0-9a-f]{4}-7/,
    visit_landing_path: '/orders/7',
    visit_channel: 'Email',
    visit_source: 'news',
    visit_medium: 'email',
    visit_campaign: 'spring',
    country: 'US'
  })
  t.match(row, {
    type: 'action',
    action_name: 'order',
    client_ip: '8.8.8.0',
    path: '/orders/7',
    method: 'POST',
    user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0',
    referrer: 'https://ref.example/a',
    status_code: 200,
    matched_pattern: '/orders/:id',
    revenue_minor: null,
    client_bot: false
  })
  t.match(row.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/, 'the event id is the primary key')
  t.same(row.properties, { note: 'tab\there\nnew line \\ and NUL', plan: 'annual' }, 'COPY escapes survive; NUL, which PostgreSQL cannot store, is removed')
})

test('the report queries of schema/reports/postgres.sql return the known answers', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  await db.query('DROP TABLE IF EXISTS analytics_events')
  const { collector } = await startCollector(t, { connectionString: db.url, createTable: true, ip: 'full' })
  const events = reportFixture()
  for (const event of events) collector.collect(event)
  const report = await finish(t, collector, events.length)
  t.equal(report.delivered, events.length)
  const expected = { ...expectedReports(events), ...expectedVisitReports(), ...expectedCrawlerReports() }
  const reports = readReports('postgres.sql')
  t.same([...reports.keys()], Object.keys(expected), 'one query per report')
  for (const [name, sql] of reports) {
    t.same(comparable(await db.query(sql), expected[name]), expected[name], name)
  }
})

test('the crawler reports of schema/reports/postgres.sql: per day and purpose, pages with 404s, spoofs apart', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  await db.query('DROP TABLE IF EXISTS analytics_events')
  const { collector } = await startCollector(t, { connectionString: db.url, createTable: true, ip: 'full' })
  const events = crawlerFixture()
  for (const event of events) collector.collect(event)
  t.equal((await finish(t, collector, events.length)).delivered, events.length)
  const reports = readReports('postgres.sql')
  for (const [name, expected] of Object.entries(expectedCrawlerFixtureReports())) {
    t.same(comparable(await db.query(reports.get(name) as string), expected), expected, name)
  }
  const [row] = await db.query<Record<string, unknown>>("SELECT client_crawler_name, client_crawler_operator, client_crawler_purpose, client_crawler_verified FROM analytics_events WHERE client_ip = '192.0.2.1'")
  t.same(row, { client_crawler_name: 'GPTBot', client_crawler_operator: 'OpenAI', client_crawler_purpose: 'ai-training', client_crawler_verified: false })
  const [person] = await db.query<Record<string, unknown>>("SELECT client_crawler_name, client_crawler_verified FROM analytics_events WHERE client_ip = '203.0.113.10'")
  t.same(person, { client_crawler_name: '', client_crawler_verified: null }, 'a person: no crawler, verified NULL')
})

test('100 000 events are stored exactly once (count(*) = count(DISTINCT id))', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  const table = newTable()
  const { collector } = await startCollector(t, { connectionString: db.url, table, createTable: true, maxQueueSize: 100_000, maxQueueBytes: 256 << 20, maxBatchSize: 5000 })
  const events = customEvents(100_000)
  for (const event of events) collector.collect(event)
  const report = await finish(t, collector, events.length, 60_000)
  t.equal(report.delivered, 100_000)
  const [row] = await db.query<{ rows: string, ids: string }>(`SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM ${table}`)
  t.same(row, { rows: '100000', ids: '100000' })
})

test('a connection cut after COMMIT was sent: the retry adds no row twice', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  const table = newTable()
  await db.query(postgresTableDDL(table))
  const proxy = await startCutProxy(t, db.port)
  const { collector, logs } = await startCollector(t, { connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`, table, maxBatchSize: 100 })
  // The server has committed when it answers COMMIT: swallowing that answer is the lost acknowledgement.
  proxy.cutOnReply('COMMIT\u0000', 2)
  const events = customEvents(300)
  for (const event of events) collector.collect(event)
  const report = await finish(t, collector, events.length)
  t.equal(proxy.cuts, 2, 'two acknowledgements were lost')
  t.ok(report.retries >= 2, 'the batches were sent again')
  t.equal(report.delivered, 300)
  const [row] = await db.query<{ rows: string, ids: string }>(`SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM ${table}`)
  t.same(row, { rows: '300', ids: '300' }, 'every event stored once')
  t.ok(logs.lines.some((line) => line.msg === 'postgres: delivery attempt failed, will retry'), 'the lost connection is logged')
})

test('a server restart mid-run: every event stored once, the invariant holds', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  const table = newTable()
  const { collector, logs } = await startCollector(t, {
    connectionString: db.url,
    table,
    createTable: true,
    maxBatchSize: 500,
    maxQueueSize: 20_000,
    retry: { baseDelayMs: 50, maxDelayMs: 500, maxAttempts: 30 }
  })
  const events = customEvents(20_000)
  for (const event of events.slice(0, 10_000)) collector.collect(event)
  await db.restart(300)
  for (const event of events.slice(10_000)) collector.collect(event)
  const report = await finish(t, collector, events.length, 30_000)
  t.equal(report.delivered, 20_000, 'nothing lost to the restart')
  const [row] = await db.query<{ rows: string, ids: string }>(`SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM ${table}`)
  t.same(row, { rows: '20000', ids: '20000' })
  t.ok(logs.text().length > 0, 'the outage is logged')
  t.notOk(logs.text().includes(db.url), 'the connection string is never logged')
})

test('without createTable, a missing table fails app.ready() with the fix (issue 26: it started and refused every batch)', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  for (const table of ['nowhere.nothing', newTable()]) {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(analytics, { collectors: [postgresCollector({ connectionString: db.url, table })] })
    await t.rejects(async () => { await app.ready() }, new RegExp(`${table.replace('.', '\\.')} does not exist.*schema/postgres\\.sql.*createTable: true`), table)
  }
})

test('without createTable, a server that does not answer at start delays it by at most TABLE_CHECK_WAIT_MS', async (t) => {
  const sockets = new Set<Socket>()
  const silent = createServer((socket) => sockets.add(socket)) // accepts connections, never answers
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { for (const socket of sockets) socket.destroy(); silent.close() })
  const port = (silent.address() as AddressInfo).port
  const started = performance.now()
  const { collector } = await startCollector(t, { connectionString: `postgres://u@127.0.0.1:${port}/db`, timeoutMs: 60_000 })
  t.ok(performance.now() - started < TABLE_CHECK_WAIT_MS + 5000, 'start returned without the table check')
  t.equal(collector.stats().delivered, 0)
})

test('a table dropped after start: batches are counted rejected, with the fix in the log', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  await db.query('CREATE SCHEMA IF NOT EXISTS dropped')
  const { collector, logs } = await startCollector(t, { connectionString: db.url, table: 'dropped.events', createTable: true })
  await db.query('DROP SCHEMA dropped CASCADE')
  for (const event of customEvents(10)) collector.collect(event)
  const report = await finish(t, collector, 10)
  t.equal(report.dropped.rejected, 10)
  t.equal(report.retries, 0, 'not retried: waiting cannot create the table')
  t.match(logs.text(), /3F000.*createTable: true/)
})

test('events that fit no column are refused as invalid, the rest stored', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  const table = newTable()
  const { collector } = await startCollector(t, { connectionString: db.url, table, createTable: true })
  const [ok, tooBig] = customEvents(2)
  tooBig.statusCode = 70_000
  collector.collect(ok)
  collector.collect(tooBig)
  const report = await finish(t, collector, 2)
  t.equal(report.delivered, 1)
  t.equal(report.dropped.invalid, 1)
})

/** An event with every visitor field set, as the visits layer fills them. */
test('createTable on a table made by the previous release adds the visitor columns; old rows read as no visit', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  const table = newTable()
  const previous = readFileSync(new URL('./previous-release/postgres.sql', import.meta.url), 'utf8').replaceAll('analytics_events', table)
  await db.query(previous)
  await db.query(`INSERT INTO ${table} (id, timestamp, type) VALUES ('00000000-0000-7000-8000-000000000001', now(), 'pageview')`)
  const { collector } = await startCollector(t, { connectionString: db.url, table, createTable: true })
  const events = [visitedEvent(1, '/landing\there'), createEvent(EventType.Custom, new Date())]
  for (const event of events) collector.collect(event)
  const report = await finish(t, collector, 2)
  t.equal(report.delivered, 2)
  const rows = await db.query(`SELECT id::text, visitor_id, visit_id::text, (extract(epoch FROM visit_started_at) * 1000)::bigint::text AS started, visit_landing_path,
    visit_channel, visit_source, visit_medium, visit_campaign, visit_term, visit_content, visit_click_id, country FROM ${table} ORDER BY id`)
  const none = NO_VISIT_ROW
  const visit = events[0].visit as NonNullable<AnalyticsEvent['visit']>
  t.same(rows.find((row) => row.id === '00000000-0000-7000-8000-000000000001'), { id: '00000000-0000-7000-8000-000000000001', ...none }, 'a row stored before the migration has no visit')
  t.same(rows.find((row) => row.id === events[1].id), { id: events[1].id, ...none }, 'an event without a visit (a job) has none either')
  t.same(rows.find((row) => row.id === events[0].id), {
    id: events[0].id,
    visitor_id: 'ab'.repeat(16),
    visit_id: visit.id,
    started: String(visit.startedAt.getTime()),
    visit_landing_path: '/landing\there',
    visit_channel: 'Paid Search',
    visit_source: 'Google',
    visit_medium: 'cpc',
    visit_campaign: 'spring',
    visit_term: 'red shoes',
    visit_content: 'ad 1',
    visit_click_id: 'google',
    country: 'FR'
  }, 'every visit field in its column')
  const fresh = newTable()
  await db.query(postgresTableDDL(fresh))
  const columns = async (name: string): Promise<string[]> => (await db.query<{ c: string }>(`SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS c
    FROM information_schema.columns WHERE table_name = '${name}' ORDER BY ordinal_position`)).map((row) => row.c)
  t.same(await columns(table), await columns(fresh), 'the migrated table has the columns of a new one, in order')
})

test('one refused row never sinks a COPY batch: a year-0000 timestamp and a malformed id are rejected alone, the rest stored', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  const table = newTable()
  const { collector, logs } = await startCollector(t, { connectionString: db.url, table, createTable: true, maxBatchSize: 2000 })
  const events = customEvents(1000)
  events[137].timestamp = new Date('0000-01-01T00:00:00.000Z')
  events[801].id = 'not-a-uuid'
  const started = Date.now()
  for (const event of events) collector.collect(event)
  const report = await finish(t, collector, events.length)
  t.comment(`split and stored in ${Date.now() - started} ms`)
  t.equal(report.delivered, 998, 'every other event is stored')
  t.equal(report.dropped.rejected, 2, 'the two refused events are counted rejected')
  t.equal(report.retries, 0, 'a refusal for data is not retried')
  const [row] = await db.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${table}`)
  t.equal(row.rows, '998')
  t.match(logs.text(), /22008|22P02/, 'the refusal is logged with its SQLSTATE')
})

test('without createTable, a table of the previous release is logged at start with the fix, and its batches are rejected with it', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  const table = newTable()
  await db.query(readFileSync(new URL('./previous-release/postgres.sql', import.meta.url), 'utf8').replaceAll('analytics_events', table))
  const { collector, logs } = await startCollector(t, { connectionString: db.url, table })
  // The check runs in the background: wait for its line (bounded).
  for (let i = 0; i < 100 && !/lacks columns/.test(logs.text()); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  for (const event of customEvents(3)) collector.collect(event)
  const report = await finish(t, collector, 3)
  t.equal(report.dropped.rejected, 3)
  t.equal(report.retries, 0)
  t.ok(logs.lines.some((line) => /lacks columns/.test(String(line.msg)) && String(line.missing).includes('visitor_id')), 'the start check names the missing columns')
  t.match(logs.text(), /42703.*createTable: true/, 'each refusal carries the fix')
})

test('typed properties: numbers and booleans are jsonb numbers and booleans, so SQL sums them without a cast from text', { skip: server === undefined }, async (t) => {
  const db = server as PostgresServer
  const table = newTable()
  const app = Fastify()
  await app.register(analytics, { collectors: [postgresCollector({ connectionString: db.url, table, createTable: true, flushIntervalMs: 10 })] })
  await app.ready()
  app.analytics.track({ type: 'custom', eventName: 'order', properties: { qty: 3, price: 19.5, gift: true, plan: 'annual', big: 1e21, neg: -0 } })
  app.analytics.track({ type: 'custom', eventName: 'order', properties: { qty: 4, price: 0.5, gift: false, plan: '7' } })
  await app.close()
  t.equal(app.analytics.stats().collectors.postgres.delivered, 2)
  const types = await db.query(`SELECT jsonb_typeof(properties->'qty') AS qty, jsonb_typeof(properties->'price') AS price,
    jsonb_typeof(properties->'gift') AS gift, jsonb_typeof(properties->'plan') AS plan FROM ${table} ORDER BY id`)
  t.same(types, [
    { qty: 'number', price: 'number', gift: 'boolean', plan: 'string' },
    { qty: 'number', price: 'number', gift: 'boolean', plan: 'string' }
  ], 'each value keeps its JSON type in jsonb ("7" given as text stays text)')
  const [sums] = await db.query(`SELECT sum((properties->>'qty')::int) AS qty, sum((properties->>'price')::numeric) AS price,
    count(*) FILTER (WHERE (properties->'gift')::boolean) AS gifts FROM ${table}`)
  t.same(sums, { qty: '7', price: '20.0', gifts: '1' })
  const [first] = await db.query(`SELECT properties FROM ${table} WHERE properties->>'qty' = '3'`)
  t.same(first.properties, { qty: 3, price: 19.5, gift: true, plan: 'annual', big: 1e21, neg: 0 }, '-0 is stored as 0')
})
