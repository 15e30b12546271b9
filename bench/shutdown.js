// Section 5: shutdown. How long app.close() takes to deliver 10 000 queued events to healthy
// sinks, and how long it takes to return when the sinks are dead (hanging, or refusing
// connections) compared with shutdownTimeoutMs. Run by run.js pinned to core 1; reports over IPC.
import { createServer } from 'node:net'
import Fastify from 'fastify'
import analytics from 'fastify-analytics'
import { ga4Collector } from 'fastify-analytics/ga4'
import { plausibleCollector } from 'fastify-analytics/plausible'
import { stdoutCollector } from 'fastify-analytics/stdout'
import { webhookCollector } from 'fastify-analytics/webhook'
import { sinkAdmin } from './sinks.js'
import { median, report, trackedEvent } from './common.js'

const sinks = JSON.parse(process.env.BENCH_SINKS)
const admin = sinkAdmin(sinks.admin)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const QUEUED = 10_000
const HEALTHY_TIMEOUT_MS = 10_000
const DEAD_TIMEOUT_MS = Number(process.env.BENCH_DEAD_TIMEOUT_MS ?? 1000)

function make (name, urls) {
  switch (name) {
    case 'stdout': return stdoutCollector({ destination: '/dev/null' })
    case 'ga4': return ga4Collector({ measurementId: 'G-BENCH01', apiSecret: 'bench-secret', endpoint: urls.ga4 })
    case 'plausible': return plausibleCollector({ domain: 'bench.example', baseUrl: urls.plausible })
    case 'webhook': return webhookCollector({ url: urls.webhook })
  }
}

const HEALTHY = { webhook: ['webhook'], ga4: ['ga4'], plausible: ['plausible'], three: ['stdout', 'ga4', 'webhook'] }
const DEAD = ['ga4', 'plausible', 'webhook']

async function freePortUrl () {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return `http://127.0.0.1:${port}`
}

const EVENTS = Array.from({ length: 1000 }, (_, i) => trackedEvent(i))

async function cycle (names, urls, shutdownTimeoutMs) {
  const app = Fastify({ logger: false })
  await app.register(analytics, { collectors: names.map((name) => make(name, urls)), shutdownTimeoutMs })
  await app.ready()
  // Synchronously, so all 10 000 are queued (the queue holds exactly 10 000) before close() starts.
  for (let i = 0; i < QUEUED; i++) app.analytics.track(EVENTS[i % EVENTS.length])
  const queued = app.analytics.stats().collectors
  const started = performance.now()
  await app.close()
  const closeMs = performance.now() - started
  const collectors = {}
  for (const [name, s] of Object.entries(app.analytics.stats().collectors)) {
    collectors[name] = { accepted: s.accepted, delivered: s.delivered, queuedAtClose: queued[name].queued, shutdown: s.dropped.shutdown, otherDrops: Object.values(s.dropped).reduce((a, b) => a + b, 0) - s.dropped.shutdown }
  }
  return { closeMs, collectors }
}

const refused = await freePortUrl()
const refusedUrls = { ga4: refused, plausible: refused, webhook: `${refused}/hook` }

async function healthy (name) {
  await admin.reset()
  const result = await cycle(HEALTHY[name], sinks, HEALTHY_TIMEOUT_MS)
  const { counts } = await admin.counts()
  for (const [collector, c] of Object.entries(result.collectors)) c.sinkEvents = counts[collector]?.events
  return { case: name, ...result }
}

// Warm-up: one cycle per case (JIT, as in a process that has been serving).
for (const name of Object.keys(HEALTHY)) await healthy(name)

const runs = []
for (let round = 0; round < rounds; round++) {
  for (const name of Object.keys(HEALTHY)) runs.push(await healthy(name))
  await admin.mode('hang')
  runs.push({ case: 'dead: hanging', timeoutMs: DEAD_TIMEOUT_MS, ...await cycle(DEAD, sinks, DEAD_TIMEOUT_MS) })
  await admin.mode('ok')
  runs.push({ case: 'dead: refused', timeoutMs: DEAD_TIMEOUT_MS, ...await cycle(DEAD, refusedUrls, DEAD_TIMEOUT_MS) })
}

const summary = {}
for (const run of runs) (summary[run.case] ??= { runs: [] }).runs.push(run)
for (const entry of Object.values(summary)) entry.median = median(entry.runs.map((r) => r.closeMs))
report({ shutdown: summary, queued: QUEUED, deadTimeoutMs: DEAD_TIMEOUT_MS })
