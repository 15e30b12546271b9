import { test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { DuckDBInstance } from '@duckdb/node-api'
import analytics, { EventType } from '../../lib/index.js'
import { createEvent, type AnalyticsEvent } from '../../lib/event.js'
import { totalDropped } from '../../lib/collector.js'
import { duckdbCollector, duckdbTableDDL, type DuckDBCollectorOptions, type DuckDBCollector } from '../../lib/collectors/duckdb.js'
import { logCapture, type LogCapture, type TapTest } from '../helpers/collectors.js'
import { expectedReports, expectedVisitReports, reportFixture, NO_VISIT_ROW, visitedEvent, crawlerFixture, expectedCrawlerFixtureReports, expectedCrawlerReports } from './fixture.js'
import { comparable, readReports } from './reports.js'

/** A fresh directory per test, removed at teardown: one process owns a DuckDB file. */
function tempFile (t: TapTest): string {
  const dir = mkdtempSync(join(tmpdir(), 'fa-duckdb-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'analytics.duckdb')
}

async function startCollector (t: TapTest, options: DuckDBCollectorOptions): Promise<{ collector: DuckDBCollector, logs: LogCapture }> {
  const logs = logCapture()
  const collector = duckdbCollector({ flushIntervalMs: 20, retry: { baseDelayMs: 20, maxDelayMs: 200 }, ...options })
  await collector.start(AbortSignal.timeout(10_000), { log: logs.log })
  t.teardown(() => collector.close(AbortSignal.timeout(2000)))
  return { collector, logs }
}

/** Flushes and closes, then checks accepted = delivered + Σ dropped and that nothing is left. */
async function finish (t: TapTest, collector: DuckDBCollector, accepted: number, deadlineMs = 20_000) {
  await collector.flush(AbortSignal.timeout(deadlineMs))
  await collector.close(AbortSignal.timeout(deadlineMs))
  const report = collector.stats()
  t.equal(report.delivered + totalDropped(report.dropped), accepted, 'accepted = delivered + Σ dropped')
  t.equal(report.queued + report.inFlight, 0, 'nothing left queued or in flight')
  return report
}

/** Reads a closed collector's file (the collector released it at close). */
async function query (path: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.fromCache(path)
  const connection = await instance.connect()
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>
  } finally {
    connection.closeSync()
    instance.closeSync()
  }
}

function customEvents (count: number): AnalyticsEvent[] {
  const events: AnalyticsEvent[] = []
  for (let i = 0; i < count; i++) {
    const event = createEvent(EventType.Custom, new Date())
    event.eventName = `e${i}`
    events.push(event)
  }
  return events
}

test('the shipped schema/duckdb.sql is the table createTable makes', async (t) => {
  t.equal(readFileSync(new URL('../../schema/duckdb.sql', import.meta.url), 'utf8'), duckdbTableDDL('analytics_events'))
})

test('options that cannot work throw FST_ANALYTICS_INVALID_OPTION, naming the option', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{}, /path is required/],
    [{ path: '' }, /path is required/],
    [{ path: 'a.duckdb', table: 'a;drop table x' }, /table must be/],
    [{ path: 'a.duckdb', createTable: 'yes' }, /createTable/],
    [{ path: 'a.duckdb', ip: 'partial' }, /ip must be/],
    [{ path: 'a.duckdb', dispatcher: {} }, /unknown option "dispatcher"/],
    [{ path: 'a.duckdb', maxBatchSize: 0 }, /maxBatchSize/]
  ]
  for (const [options, message] of cases) {
    t.throws(() => duckdbCollector(options as unknown as DuckDBCollectorOptions), { code: 'FST_ANALYTICS_INVALID_OPTION', message }, JSON.stringify(options))
  }
})

test('through the plugin: every field of an event lands in its typed column, once', async (t) => {
  const path = tempFile(t)
  const app = Fastify({ trustProxy: '127.0.0.1' })
  await app.register(analytics, { collectors: [duckdbCollector({ path, flushIntervalMs: 10 })] })
  app.post('/orders/:id', { config: { analytics: { action: 'order' } } }, async (request) => {
    request.analytics.addProperty('note', 'tab\there\nnew line \\ and NUL\u0000')
    return { ok: true }
  })
  await app.inject({
    method: 'POST',
    url: '/orders/7?utm_source=news&utm_medium=email&utm_campaign=spring',
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', 'x-forwarded-for': '8.8.8.77', referer: 'https://ref.example/a' },
    payload: {}
  })
  await app.close()
  t.equal(app.analytics.stats().collectors.duckdb.delivered, 1)
  const rows = await query(path, `SELECT id::varchar AS id, type, action_name, client_ip, path, method, referrer, status_code, matched_pattern,
    revenue_minor, client_bot, properties, visitor_id, visit_id::varchar AS visit_id, visit_landing_path, visit_channel, visit_campaign, country,
    epoch_ms(timestamp) AS ms FROM analytics_events`)
  t.equal(rows.length, 1)
  t.match(rows[0], {
    id: /^[0-9a-f]{8}-[0-9a-f]{4}-7/,
    type: 'action',
    action_name: 'order',
    client_ip: '8.8.8.0',
    path: '/orders/7',
    method: 'POST',
    referrer: 'https://ref.example/a',
    status_code: 200,
    matched_pattern: '/orders/:id',
    revenue_minor: null,
    client_bot: false,
    visitor_id: /^[0-9a-f]{32}$/,
    visit_id: /^[0-9a-f]{8}-[0-9a-f]{4}-7/,
    visit_landing_path: '/orders/7',
    visit_channel: 'Email',
    visit_campaign: 'spring',
    country: 'US'
  })
  t.same(JSON.parse(String(rows[0].properties)), { note: 'tab\there\nnew line \\ and NUL' }, 'text survives as it is; NUL is removed as for the other stores')
})

test('the report queries of schema/reports/duckdb.sql return the known answers, under the names of the other two', async (t) => {
  const path = tempFile(t)
  const { collector } = await startCollector(t, { path, ip: 'full' })
  const events = reportFixture()
  for (const event of events) collector.collect(event)
  const report = await finish(t, collector, events.length)
  t.equal(report.delivered, events.length)
  const expected = { ...expectedReports(events), ...expectedVisitReports(), ...expectedCrawlerReports() }
  const reports = readReports('duckdb.sql')
  t.same([...reports.keys()], Object.keys(expected), 'one query per report')
  t.same([...reports.keys()], [...readReports('postgres.sql').keys()], 'the names of the PostgreSQL reports')
  t.same([...reports.keys()], [...readReports('clickhouse.sql').keys()], 'the names of the ClickHouse reports')
  for (const [name, sql] of reports) {
    t.same(comparable(await query(path, sql), expected[name]), expected[name], name)
  }
})

test('the crawler reports of schema/reports/duckdb.sql: per day and purpose, pages with 404s, spoofs apart', async (t) => {
  const path = tempFile(t)
  const { collector } = await startCollector(t, { path, ip: 'full' })
  const events = crawlerFixture()
  for (const event of events) collector.collect(event)
  t.equal((await finish(t, collector, events.length)).delivered, events.length)
  const reports = readReports('duckdb.sql')
  for (const [name, expected] of Object.entries(expectedCrawlerFixtureReports())) {
    t.same(comparable(await query(path, reports.get(name) as string), expected), expected, name)
  }
})

test('100 000 events are stored exactly once', async (t) => {
  const path = tempFile(t)
  const { collector } = await startCollector(t, { path, maxQueueSize: 100_000, maxQueueBytes: 256 << 20 })
  const events = customEvents(100_000)
  let longest = 0
  let last = performance.now()
  const probe = setInterval(() => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
  }, 5)
  const started = performance.now()
  for (const event of events) collector.collect(event)
  last = performance.now()
  const report = await finish(t, collector, events.length, 60_000)
  clearInterval(probe)
  t.comment(`stored in ${Math.round(performance.now() - started)} ms; longest event-loop stall ${Math.round(longest)} ms`)
  t.equal(report.delivered, 100_000)
  const [row] = await query(path, 'SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids FROM analytics_events')
  t.same(row, { n: 100_000, ids: 100_000 })
})

test('a file another process holds fails ready() with FST_ANALYTICS_START_FAILED, saying it is locked and by whom', async (t) => {
  const path = tempFile(t)
  // The other process: opens the file, says so, and holds it until its stdin closes.
  const holder = spawn(process.execPath, ['--input-type=module', '-e', `
    import { DuckDBInstance } from '@duckdb/node-api'
    const db = await DuckDBInstance.create(${JSON.stringify(path)})
    process.stdout.write('open\\n')
    process.stdin.on('end', () => { db.closeSync(); process.exit(0) }).resume()
  `], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => { holder.stdin.end() })
  await new Promise<void>((resolve, reject) => {
    holder.stdout.once('data', () => resolve())
    holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)))
  })
  const app = Fastify()
  await app.register(analytics, { collectors: [duckdbCollector({ path })] })
  await t.rejects(async () => { await app.ready() }, { code: 'FST_ANALYTICS_START_FAILED', message: /duckdb.*locked by another process .*PID \d+.*one process owns a DuckDB file/s })
  await app.close().catch(() => {})
  holder.stdin.end()
  await new Promise((resolve) => holder.once('exit', resolve))
  // Once the other process is gone, the same file opens.
  const { collector } = await startCollector(t, { path })
  collector.collect(customEvents(1)[0])
  const report = await finish(t, collector, 1)
  t.equal(report.delivered, 1)
})

test('the collector and a reader in the same process share one database; the file is released at close', async (t) => {
  const path = tempFile(t)
  const { collector } = await startCollector(t, { path })
  const reader = await DuckDBInstance.fromCache(path)
  const connection = await reader.connect()
  for (const event of customEvents(5)) collector.collect(event)
  await collector.flush(AbortSignal.timeout(5000))
  const [row] = (await connection.runAndReadAll('SELECT count(*)::INTEGER AS n FROM analytics_events')).getRowObjectsJS()
  t.equal(row.n, 5, 'the reader sees what the collector stored')
  connection.closeSync()
  reader.closeSync()
  await finish(t, collector, 5)
  // Released: another process can open it now.
  const other = spawn(process.execPath, ['--input-type=module', '-e', `
    import { DuckDBInstance } from '@duckdb/node-api'
    const db = await DuckDBInstance.create(${JSON.stringify(path)})
    const c = await db.connect()
    const r = await c.runAndReadAll('SELECT count(*)::INTEGER AS n FROM analytics_events')
    process.stdout.write(String(r.getRowObjectsJS()[0].n))
  `], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  other.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  await new Promise((resolve) => other.once('exit', resolve))
  t.equal(out, '5', 'another process reads the file after close')
})

test('createTable on a table made by the previous release adds the visitor columns; old rows read as no visit', async (t) => {
  const path = tempFile(t)
  {
    const instance = await DuckDBInstance.fromCache(path)
    const connection = await instance.connect()
    // The PostgreSQL table of the previous release, in DuckDB's types: the columns before visits.
    const previous = duckdbTableDDL('analytics_events').replace(/,\n {2}visitor_id[\s\S]*\n\);/, '\n);')
    await connection.run(previous)
    await connection.run("INSERT INTO analytics_events (id, timestamp, type) VALUES ('00000000-0000-7000-8000-000000000001', now(), 'pageview')")
    connection.closeSync()
    instance.closeSync()
  }
  const { collector } = await startCollector(t, { path })
  const events = [visitedEvent(1, '/landing\there'), createEvent(EventType.Custom, new Date())]
  for (const event of events) collector.collect(event)
  const report = await finish(t, collector, 2)
  t.equal(report.delivered, 2)
  const rows = await query(path, `SELECT id::varchar AS id, visitor_id, visit_id::varchar AS visit_id, epoch_ms(visit_started_at)::varchar AS started, visit_landing_path,
    visit_channel, visit_source, visit_medium, visit_campaign, visit_term, visit_content, visit_click_id, country FROM analytics_events`)
  const visit = events[0].visit as NonNullable<AnalyticsEvent['visit']>
  t.same(rows.find((row) => row.id === '00000000-0000-7000-8000-000000000001'), { id: '00000000-0000-7000-8000-000000000001', ...NO_VISIT_ROW }, 'a row stored before the migration has no visit')
  t.same(rows.find((row) => row.id === events[1].id), { id: events[1].id, ...NO_VISIT_ROW }, 'an event without a visit has none either')
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
})

test('a refused row never sinks a batch: a malformed id is rejected alone, the rest stored', async (t) => {
  const path = tempFile(t)
  const { collector, logs } = await startCollector(t, { path, maxBatchSize: 1000 })
  const events = customEvents(500)
  events[321].id = 'not-a-uuid'
  for (const event of events) collector.collect(event)
  const report = await finish(t, collector, events.length)
  t.equal(report.delivered, 499)
  t.equal(report.dropped.rejected, 1)
  t.equal(report.retries, 0, 'a refusal for data is not retried')
  t.match(logs.text(), /not-a-uuid/, 'the refusal is logged with the value DuckDB could not take')
  const [row] = await query(path, 'SELECT count(*)::INTEGER AS n FROM analytics_events')
  t.equal(row.n, 499)
})

test('without createTable, a missing table is rejected with the fix in the log', async (t) => {
  const path = tempFile(t)
  const { collector, logs } = await startCollector(t, { path, createTable: false })
  for (const event of customEvents(3)) collector.collect(event)
  const report = await finish(t, collector, 3)
  t.equal(report.dropped.rejected, 3)
  t.equal(report.retries, 0)
  t.match(logs.text(), /createTable: true/)
})

test('typed properties: the JSON in the properties column keeps numbers and booleans, so DuckDB reads them as numbers', async (t) => {
  const path = tempFile(t)
  const app = Fastify()
  await app.register(analytics, { collectors: [duckdbCollector({ path, flushIntervalMs: 10 })] })
  await app.ready()
  app.analytics.track({ type: 'custom', eventName: 'order', properties: { qty: 3, price: 19.5, gift: true, plan: 'annual' } })
  app.analytics.track({ type: 'custom', eventName: 'order', properties: { qty: 4, price: 0.5, gift: false, plan: '7' } })
  await app.close()
  t.equal(app.analytics.stats().collectors.duckdb.delivered, 2)
  const types = await query(path, `SELECT DISTINCT json_type(properties, '$.qty') AS qty, json_type(properties, '$.gift') AS gift,
    json_type(properties, '$.plan') AS plan FROM analytics_events`)
  t.same(types.map((row) => ({ ...row })), [{ qty: 'UBIGINT', gift: 'BOOLEAN', plan: 'VARCHAR' }])
  const [sums] = await query(path, 'SELECT sum(CAST(json_extract(properties, \'$.qty\') AS INTEGER)) AS qty FROM analytics_events')
  t.equal(Number(sums.qty), 7)
})
