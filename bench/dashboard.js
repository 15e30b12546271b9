// Section 7: the dashboard's API on a million events. Loads BENCH_DASHBOARD_EVENTS (default
// 1 000 000) made-up events over the last 30 days into DuckDB, PostgreSQL and ClickHouse through
// their collectors, then times every API route for the default 30-day view (app.inject: the
// figures are the queries and the JSON, not the network). A store that is not installed is skipped
// and said so. Run alone with `npm run build && node bench/dashboard.js`, or by run.js (BENCH_SECTIONS=7; not in the default sections: loading takes minutes).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import { Money } from 'fastify-analytics'
import { duckdbCollector } from 'fastify-analytics/duckdb'
import { postgresCollector } from 'fastify-analytics/postgres'
import { clickhouseCollector } from 'fastify-analytics/clickhouse'
import { analyticsDashboard, DIMENSION_NAMES } from 'fastify-analytics/dashboard'
import { createEvent } from '../dist/modules/lib/event.js'
import { median, report, sleep } from './common.js'
import { startClickHouse, startPostgres, treeCpuSeconds } from './servers.js'

const EVENTS = Number(process.env.BENCH_DASHBOARD_EVENTS ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_DASHBOARD_ROUNDS ?? 5)
const STORES = (process.env.BENCH_DASHBOARD_STORES ?? 'duckdb,postgres,clickhouse').split(',')
const DAY = 86_400_000
const cleanups = []

// A small deterministic generator (mulberry32): the same data in every store and every run.
function random (seed) {
  return () => {
    seed = (seed + 0x6D2B79F5) | 0
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}
const pick = (rnd, list) => list[Math.floor(rnd() * list.length)]

const PATHS = Array.from({ length: 200 }, (_, i) => i < 20 ? ['/', '/pricing', '/docs', '/about', '/cart'][i % 5] + (i < 5 ? '' : `/${i}`) : `/products/${i}`)
const CHANNELS = [['Organic Search', 'Google', 'organic'], ['Organic Search', 'Bing', 'organic'], ['Direct', '(direct)', '(none)'], ['Referral', 'news.ycombinator.com', 'referral'],
  ['Organic Social', 'Facebook', 'social'], ['Email', 'newsletter', 'email'], ['Paid Search', 'Google', 'cpc'], ['Referral', 'github.com', 'referral']]
const COUNTRIES = ['GB', 'US', 'DE', 'FR', 'JP', 'BR', 'IN', 'CA', 'NL', 'ES', 'IT', 'SE', 'PL', 'AU', 'MX', '']
const CLIENTS = [['Chrome', 'Windows', 'desktop'], ['Mobile Safari', 'iOS', 'mobile'], ['Firefox', 'Linux', 'desktop'], ['Safari', 'macOS', 'desktop'],
  ['Chrome', 'Android', 'mobile'], ['Edge', 'Windows', 'desktop'], ['Mobile Safari', 'iOS', 'tablet'], ['Samsung Internet', 'Android', 'mobile']]
const CAMPAIGNS = Array.from({ length: 20 }, (_, i) => `campaign-${i}`)

/** Visits of 1 to 9 events (pages mostly, some actions, a few checkouts), spread over 30 days. */
function * events (count) {
  const rnd = random(42)
  const now = Date.now()
  let made = 0
  let visitNumber = 0
  while (made < count) {
    const start = now - Math.floor(rnd() * 30 * DAY)
    const day = Math.floor(start / DAY)
    const visitor = Math.floor(rnd() * 8000)
    const [channel, source, medium] = pick(rnd, CHANNELS)
    const campaign = channel === 'Email' || channel === 'Paid Search' ? pick(rnd, CAMPAIGNS) : ''
    const [browser, os, device] = pick(rnd, CLIENTS)
    const landingPath = pick(rnd, PATHS)
    const id = `00000000-0000-4000-8000-${(++visitNumber).toString(16).padStart(12, '0')}`
    const visit = { id, startedAt: new Date(start), landingPath, channel, source, medium, campaign, term: '', content: '', clickId: '' }
    const seen = {
      visitorId: (day.toString(16) + visitor.toString(16)).padStart(32, '0'),
      visit,
      country: pick(rnd, COUNTRIES),
      client: { browser, browserVersion: '1', os, osVersion: '', device, bot: false },
      hostname: 'shop.example',
      userAgent: `${browser} on ${os}`
    }
    const length = 1 + Math.floor(rnd() * 9)
    for (let i = 0; i < length && made < count; i++, made++) {
      const at = new Date(start + i * 30_000)
      const kind = i === 0 ? 'pageview' : rnd() < 0.8 ? 'pageview' : rnd() < 0.8 ? 'action' : 'custom'
      const event = createEvent(kind, at)
      const path = i === 0 ? landingPath : pick(rnd, PATHS)
      Object.assign(event, seen, { path, url: `https://shop.example${path}`, matchedPattern: path, method: kind === 'action' ? 'POST' : 'GET', statusCode: 200 })
      if (kind === 'action') {
        event.actionName = rnd() < 0.1 ? 'checkout' : 'add_to_cart'
        if (event.actionName === 'checkout') event.revenue = Money.fromMinor(1000 + Math.floor(rnd() * 9000), rnd() < 0.7 ? 'GBP' : 'USD')
      }
      if (kind === 'custom') event.eventName = pick(rnd, ['signup', 'search', 'newsletter.subscribed'])
      yield event
    }
  }
}

async function load (collector) {
  const started = performance.now()
  let n = 0
  for (const event of events(EVENTS)) {
    collector.collect(event)
    if (++n % 50_000 === 0) {
      // Let the collector drain: its queue holds at most the 200 000 events its options allow.
      while (collector.stats().queued > 100_000) await sleep(20)
    }
  }
  await collector.flush(AbortSignal.timeout(600_000))
  const stats = collector.stats()
  if (stats.delivered !== EVENTS) throw new Error(`only ${stats.delivered} of ${EVENTS} events stored: ${JSON.stringify(stats.dropped)}`)
  return (performance.now() - started) / 1000
}

const ROUTES = [
  'summary', 'timeseries?metric=visitors&interval=day', 'timeseries?metric=pageViews&interval=hour', 'realtime',
  ...DIMENSION_NAMES.map((dimension) => `breakdown/${dimension}`)
]

/**
 * One request: its wall time, and the CPU it cost this process (DuckDB's threads included) and the
 * database server. On a machine others are using, the wall time stretches with their load; the CPU
 * time much less, so both are reported.
 */
async function time (app, route, serverPid) {
  const cpu0 = process.cpuUsage()
  const server0 = serverPid === undefined ? 0 : treeCpuSeconds(serverPid)
  const started = performance.now()
  const response = await app.inject({ url: `/analytics/api/${route}` })
  const ms = performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  const serverMs = serverPid === undefined ? 0 : (treeCpuSeconds(serverPid) - server0) * 1000
  if (response.statusCode !== 200) throw new Error(`${route}: ${response.statusCode} ${response.body}`)
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000 + serverMs }
}

async function measure (kind, collector, prepare, serverPid) {
  const seconds = await load(collector)
  await prepare?.()
  const app = Fastify({ logger: false })
  // A long query timeout: the bench measures how long a query takes, not where the default 5 s cuts it.
  await app.register(analyticsDashboard, { prefix: '/analytics', source: collector, access: 'public', queryTimeoutMs: 60_000 })
  for (const route of ROUTES) await time(app, route, serverPid) // warm-up: connections, caches, JIT
  const routes = {}
  for (const route of ROUTES) {
    const runs = []
    for (let round = 0; round < ROUNDS; round++) runs.push(await time(app, route, serverPid))
    routes[route] = { medianMs: median(runs.map((r) => r.ms)), maxMs: Math.max(...runs.map((r) => r.ms)), cpuMs: median(runs.map((r) => r.cpuMs)) }
  }
  // The whole page: every request it makes, at once (the browser sends them together).
  const pageRuns = []
  let pageFailures = 0
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now()
    const answers = await Promise.allSettled(['summary', 'timeseries?metric=visitors&interval=day', ...DIMENSION_NAMES.map((d) => `breakdown/${d}`)].map((route) => time(app, route, serverPid)))
    pageRuns.push(performance.now() - started)
    // A request past the query timeout (or waiting that long for a pool connection) is a failure to count, not a crash.
    pageFailures += answers.filter((answer) => answer.status === 'rejected').length
  }
  await app.close()
  await collector.close(AbortSignal.timeout(60_000))
  return { kind, events: EVENTS, loadSeconds: seconds, routes, pageMs: median(pageRuns), pageFailures, loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') }
}

const results = {}
try {
  if (STORES.includes('duckdb')) {
    const dir = mkdtempSync(join(tmpdir(), 'fa-bench-duckdb-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    const collector = duckdbCollector({ path: join(dir, 'analytics.duckdb'), maxQueueSize: 200_000, maxQueueBytes: 512 << 20 })
    await collector.start(AbortSignal.timeout(30_000), { log: silent() })
    results.duckdb = await measure('duckdb', collector)
  }
  if (STORES.includes('postgres')) {
    const server = await startPostgres(cleanups)
    if (server === undefined) process.stderr.write('dashboard bench: PostgreSQL not installed (apt-get install -y postgresql), skipped\n')
    else {
      const collector = postgresCollector({ connectionString: server.url, createTable: true, maxQueueSize: 200_000, maxQueueBytes: 512 << 20, maxBatchSize: 5000 })
      await collector.start(AbortSignal.timeout(30_000), { log: silent() })
      // What autovacuum does to a table this size soon after the load: statistics and the visibility map.
      results.postgres = await measure('postgres', collector, () => server.query('VACUUM ANALYZE analytics_events'), server.pid)
    }
  }
  if (STORES.includes('clickhouse')) {
    const server = await startClickHouse(cleanups)
    if (server === undefined) process.stderr.write('dashboard bench: clickhouse-server not installed (apt-get install -y clickhouse-server), skipped\n')
    else {
      const collector = clickhouseCollector({ url: server.url, createTable: true, maxQueueSize: 200_000, maxQueueBytes: 512 << 20, maxBatchSize: 50_000 })
      await collector.start(AbortSignal.timeout(30_000), { log: silent() })
      // Merges fold the inserts' parts, as the server does in the background after a load.
      results.clickhouse = await measure('clickhouse', collector, () => server.query('OPTIMIZE TABLE analytics_events FINAL'), server.pid)
    }
  }
  if (typeof process.send !== 'function') {
    for (const [kind, r] of Object.entries(results)) {
      process.stderr.write(`${kind}: ${r.events} events loaded in ${r.loadSeconds.toFixed(1)} s; the whole page's requests at once: ${r.pageMs.toFixed(0)} ms (${r.pageFailures} failed); load average ${r.loadAverage}\n`)
      for (const [route, t] of Object.entries(r.routes)) {
        process.stderr.write(`  ${route.padEnd(44)} median ${t.medianMs.toFixed(1).padStart(7)} ms   max ${t.maxMs.toFixed(1).padStart(7)} ms   CPU ${t.cpuMs.toFixed(0).padStart(5)} ms\n`)
      }
    }
  }
  for (const cleanup of cleanups.reverse()) await cleanup()
  report({ dashboard: results })
} catch (error) {
  for (const cleanup of cleanups.reverse()) await cleanup()
  throw error
}

function silent () {
  const log = { info () {}, warn () {}, error () {}, debug () {}, trace () {}, fatal () {}, child: () => log }
  return log
}
