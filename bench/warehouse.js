// Section 6: warehouse delivery. Rows/s each database collector stores, and CPU per event in this
// process and in the database server, beside the webhook and GA4 collectors on the same feed.
// Starts its own throwaway PostgreSQL and ClickHouse (temporary directories, 127.0.0.1, stopped by
// PID); a database that is not installed is skipped and said so. Run alone with
// `npm run build && node bench/warehouse.js`, or by run.js (BENCH_SECTIONS=6). Bounded: an event
// count and a time limit per run.
import Fastify from 'fastify'
import analytics from 'fastify-analytics'
import { postgresCollector } from 'fastify-analytics/postgres'
import { clickhouseCollector } from 'fastify-analytics/clickhouse'
import { webhookCollector } from 'fastify-analytics/webhook'
import { ga4Collector } from 'fastify-analytics/ga4'
import { median, report, sleep, tick, trackedEvent } from './common.js'
import { startClickHouse, startPostgres, treeCpuSeconds } from './servers.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const limitMs = Number(process.env.BENCH_WAREHOUSE_LIMIT_MS ?? 10_000)
const EVENTS_PER_RUN = Number(process.env.BENCH_WAREHOUSE_EVENTS ?? 100_000)
const QUEUE = 20_000
const CHUNK = 1000

const EVENTS = Array.from({ length: 1000 }, (_, i) => trackedEvent(i))
const cleanups = []

/** Local HTTP receivers for the webhook and GA4 collectors: answer 204 and count requests. */
async function startSink () {
  const { createServer: createHttpServer } = await import('node:http')
  const server = createHttpServer((request, response) => {
    request.resume()
    request.on('end', () => { response.statusCode = 204; response.end() })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${server.address().port}`
}

let tables = 0
async function measure (kind, make, server) {
  const table = `bench_${kind}_${++tables}`
  const app = Fastify({ logger: false })
  await app.register(analytics, { collectors: [make(table)] })
  await app.ready()
  const stats = () => app.analytics.stats().collectors[kind]
  const cpu0 = process.cpuUsage()
  const server0 = server === undefined ? 0 : treeCpuSeconds(server.pid)
  const started = performance.now()
  const deadline = started + limitMs
  let produced = 0
  while (produced < EVENTS_PER_RUN && performance.now() < deadline) {
    if (QUEUE - stats().queued >= CHUNK) {
      for (let i = 0; i < CHUNK; i++) app.analytics.track(EVENTS[(produced + i) % EVENTS.length])
      produced += CHUNK
      await tick()
    } else {
      await sleep(1)
    }
  }
  let s = stats()
  while (s.delivered < produced && performance.now() < deadline) {
    await sleep(1)
    s = stats()
  }
  const elapsedMs = performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  const serverCpu = server === undefined ? null : treeCpuSeconds(server.pid) - server0
  await app.close()
  const stored = server === undefined ? null : await server.count(table)
  return {
    kind,
    produced,
    delivered: s.delivered,
    rowsPerSec: s.delivered / (elapsedMs / 1000),
    cpuPerEventUs: (cpu.user + cpu.system) / s.delivered,
    // The database server's CPU (user + system, all its processes) per stored row, at 10 ms resolution.
    serverCpuPerEventUs: serverCpu === null ? null : serverCpu * 1e6 / s.delivered,
    stored,
    complete: s.delivered === produced && (stored === null || stored === produced)
  }
}

const cases = []
try {
  const postgres = await startPostgres(cleanups)
  const clickhouse = await startClickHouse(cleanups)
  const sink = await startSink()
  if (postgres !== undefined) {
    cases.push(['postgres', (table) => postgresCollector({ connectionString: postgres.url, table, createTable: true, maxQueueSize: QUEUE, maxBatchSize: 5000 }), postgres])
  } else process.stderr.write('warehouse bench: PostgreSQL not installed (apt-get install -y postgresql), skipped\n')
  if (clickhouse !== undefined) {
    cases.push(['clickhouse', (table) => clickhouseCollector({ url: clickhouse.url, table, createTable: true, maxQueueSize: QUEUE }), clickhouse])
  } else process.stderr.write('warehouse bench: clickhouse-server not installed (apt-get install -y clickhouse-server), skipped\n')
  cases.push(['webhook', () => webhookCollector({ url: `${sink}/hook`, maxQueueSize: QUEUE }), undefined])
  cases.push(['ga4', () => ga4Collector({ measurementId: 'G-BENCH01', apiSecret: 'bench-secret', endpoint: sink, maxQueueSize: QUEUE }), undefined])

  for (const [kind, make, server] of cases) await measure(kind, make, server) // warm-up: JIT, pools
  const runs = []
  for (let round = 0; round < rounds; round++) {
    for (const [kind, make, server] of cases) runs.push(await measure(kind, make, server))
  }
  const summary = {}
  for (const [kind] of cases) {
    const mine = runs.filter((r) => r.kind === kind)
    summary[kind] = {
      rowsPerSec: median(mine.map((r) => r.rowsPerSec)),
      cpuPerEventUs: median(mine.map((r) => r.cpuPerEventUs)),
      serverCpuPerEventUs: median(mine.map((r) => r.serverCpuPerEventUs ?? NaN)),
      runs: mine
    }
  }
  if (typeof process.send !== 'function') {
    for (const [kind, s] of Object.entries(summary)) {
      process.stderr.write(`${kind.padEnd(11)} ${s.rowsPerSec.toFixed(0).padStart(7)} rows/s  ${s.cpuPerEventUs.toFixed(2).padStart(6)} µs CPU/event (app)` +
        `${Number.isFinite(s.serverCpuPerEventUs) ? `  ${s.serverCpuPerEventUs.toFixed(2).padStart(6)} µs CPU/event (server)` : ''}` +
        `  complete: ${s.runs.every((r) => r.complete)}\n`)
    }
  }
  for (const cleanup of cleanups.reverse()) await cleanup()
  report({ warehouse: summary })
} catch (error) {
  for (const cleanup of cleanups.reverse()) await cleanup()
  throw error
}
