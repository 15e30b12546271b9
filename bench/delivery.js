// Section 3: delivery throughput. Events/s each collector delivers to a local sink, fed from
// app.analytics.track as fast as its queue takes them. Run by run.js pinned to core 1 (sinks on
// core 0); reports over IPC. Every run is bounded by an event count and a time limit.
import Fastify from 'fastify'
import analytics from 'fastify-analytics'
import { ga4Collector } from 'fastify-analytics/ga4'
import { plausibleCollector } from 'fastify-analytics/plausible'
import { webhookCollector } from 'fastify-analytics/webhook'
import { mixpanelCollector } from 'fastify-analytics/mixpanel'
import { posthogCollector } from 'fastify-analytics/posthog'
import { segmentCollector } from 'fastify-analytics/segment'
import { umamiCollector } from 'fastify-analytics/umami'
import { redisSessionStore } from 'fastify-analytics/redis'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sinkAdmin } from './sinks.js'
import { cpuTicks, median, report, sleep, tick, trackedEvent } from './common.js'

const sinks = JSON.parse(process.env.BENCH_SINKS)
const admin = sinkAdmin(sinks.admin)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const limitMs = Number(process.env.BENCH_DELIVERY_LIMIT_MS ?? 6000)
const QUEUE = 10_000
const CHUNK = 500

// ga4-redis: GA4 with its sessions in a local redis-server (on core 0 with the sinks, as a Redis on
// another host would be), beside `ga4` and its in-memory sessions: the difference is the store's
// cost per event (one script call per visitor per batch, pipelined: one round trip per batch).
let redisUrl
// Events per run: about 1.5 s at the target rate, so a run that meets it stays short.
const CASES = {
  webhook: { events: 240_000, make: () => webhookCollector({ url: sinks.webhook }) },
  ga4: { events: 80_000, make: () => ga4Collector({ measurementId: 'G-BENCH01', apiSecret: 'bench-secret', endpoint: sinks.ga4 }) },
  'ga4-redis': {
    events: 80_000,
    sink: 'ga4',
    make: () => ga4Collector({ name: 'ga4-redis', measurementId: 'G-BENCH01', apiSecret: 'bench-secret', endpoint: sinks.ga4, sessions: redisSessionStore({ url: redisUrl }) })
  },
  plausible: { events: 10_000, make: () => plausibleCollector({ domain: 'bench.example', baseUrl: sinks.plausible }) },
  mixpanel: { events: 80_000, make: () => mixpanelCollector({ projectToken: 'bench-token', endpoint: sinks.mixpanel }) },
  posthog: { events: 80_000, make: () => posthogCollector({ apiKey: 'phc_bench', host: sinks.posthog }) },
  segment: { events: 80_000, make: () => segmentCollector({ writeKey: 'bench', endpoint: sinks.segment }) },
  // One request per event, as Plausible: Umami's API takes nothing else (no SDK to compare with).
  umami: { events: 10_000, make: () => umamiCollector({ websiteId: '6a0f3c1e-2b4d-4e5f-8a9b-0c1d2e3f4a5b', baseUrl: sinks.umami }) },
  // The vendors' SDKs doing the same job beside them (issue 25): fed the same events at the same pace,
  // each with its defaults but the host; lost = fed − received by the sink, which nothing counts.
  'posthog-node': { events: 20_000, sdk: 'posthog-sdk', sdkRun: posthogNode },
  'mixpanel-sdk': { events: 5_000, sdk: 'mixpanel-sdk', sdkRun: mixpanelSdk },
  'segment-sdk': { events: 20_000, sdk: 'segment-sdk', sdkRun: segmentSdk }
}

// Built once: the loop measures the collector, not the construction of event inputs.
const EVENTS = Array.from({ length: 1000 }, (_, i) => trackedEvent(i))

async function measure (kind, total) {
  if (CASES[kind].sdkRun !== undefined) return await measureSdk(kind, total)
  const app = Fastify({ logger: false })
  await app.register(analytics, { collectors: [CASES[kind].make()] })
  await app.ready()
  await admin.reset()
  const stats = () => app.analytics.stats().collectors[kind]
  const cpu0 = process.cpuUsage()
  const core0 = cpuTicks()
  const started = performance.now()
  const deadline = started + limitMs
  let produced = 0
  // Feed while the bounded queue has room, so nothing is dropped as queueFull: the figure is
  // what the collector delivers, not what it refuses. A full queue is re-checked after 1 ms
  // rather than spun on, so the CPU figure is the collector's, not the feeder's.
  while (produced < total && performance.now() < deadline) {
    if (QUEUE - stats().queued >= CHUNK) {
      for (let i = 0; i < CHUNK; i++) app.analytics.track(EVENTS[(produced + i) % EVENTS.length])
      produced += CHUNK
      await tick()
    } else {
      await sleep(1)
    }
  }
  let s = stats()
  while (s.delivered + sum(s.dropped) < produced && performance.now() < deadline) {
    await sleep(1)
    s = stats()
  }
  const elapsedMs = performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  const core1 = cpuTicks()
  await app.close()
  const final = stats()
  const { counts } = await admin.counts()
  const sink = CASES[kind].sink ?? kind
  return {
    kind,
    produced,
    delivered: s.delivered,
    eventsPerSec: s.delivered / (elapsedMs / 1000),
    // Process CPU time (track, encoding, HTTP client) per delivered event: what bounds the rate on one core.
    cpuPerEventUs: (cpu.user + cpu.system) / s.delivered,
    elapsedMs,
    // Core 0 holds the sinks (and an idle orchestrator): near 1 means the sink, not the collector, set the pace.
    sinkCoreBusy: core0 === null ? null : (core1[0].busy - core0[0].busy) / (elapsedMs / 10),
    complete: s.delivered === produced,
    dropped: final.dropped,
    sinkEvents: counts[sink].events,
    sinkRequests: counts[sink].requests,
    sinkMismatches: counts[sink].mismatches
  }
}

/**
 * An SDK fed like the collectors (chunks of CHUNK, a tick between) until `total`, then shut down or
 * drained within the time limit. It reports nothing the app could count: what the sink did not get is lost.
 */
async function measureSdk (kind, total) {
  await admin.reset()
  const cpu0 = process.cpuUsage()
  const started = performance.now()
  const deadline = started + limitMs
  const client = await CASES[kind].sdkRun()
  let produced = 0
  while (produced < total && performance.now() < deadline) {
    for (let i = 0; i < CHUNK; i++) client.send(EVENTS[(produced + i) % EVENTS.length])
    produced += CHUNK
    await tick()
  }
  await client.finish(Math.max(1, deadline - performance.now()))
  const elapsedMs = performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  const { counts } = await admin.counts()
  const received = counts[CASES[kind].sdk].events
  return {
    kind,
    produced,
    delivered: received,
    eventsPerSec: received / (elapsedMs / 1000),
    cpuPerEventUs: (cpu.user + cpu.system) / received,
    elapsedMs,
    complete: received === produced,
    dropped: {},
    lost: produced - received,
    sinkEvents: received,
    sinkRequests: counts[CASES[kind].sdk].requests,
    sinkMismatches: counts[CASES[kind].sdk].mismatches
  }
}

// The SDK calls mirror bench/app.js's `posthog`, `segment` and `mixpanel-sdk` configs.
async function posthogNode () {
  const { PostHog } = await import('posthog-node')
  const client = new PostHog('phc_bench', { host: sinks['posthog-sdk'] })
  return {
    send: (e) => client.capture({
      distinctId: e.clientIP,
      event: '$pageview',
      properties: { $current_url: e.url, $pathname: e.path, $referrer: e.referrer, $ip: e.clientIP, $raw_user_agent: e.userAgent, status: e.statusCode, duration_ms: e.durationMs }
    }),
    finish: (ms) => client.shutdown(ms)
  }
}

async function segmentSdk () {
  const { Analytics } = await import('@segment/analytics-node')
  const client = new Analytics({ writeKey: 'bench', host: sinks['segment-sdk'] })
  return {
    send: (e) => client.page({
      anonymousId: e.clientIP,
      name: e.matchedPattern,
      properties: { url: e.url, path: e.path, referrer: e.referrer, status: e.statusCode, durationMs: e.durationMs },
      context: { ip: e.clientIP, userAgent: e.userAgent }
    }),
    finish: (ms) => client.closeAndFlush({ timeout: ms })
  }
}

async function mixpanelSdk () {
  const { default: Mixpanel } = await import('mixpanel')
  const url = new URL(sinks['mixpanel-sdk'])
  // /import needs credentials; an api key goes over plain HTTP (a secret or service account needs HTTPS).
  // Its deprecation warning for api_key is silenced: the bench's output is its table.
  const quiet = { trace () {}, debug () {}, info () {}, warn () {}, error () {} }
  const client = Mixpanel.init('bench-token', { host: url.hostname, port: url.port, protocol: 'http', key: 'bench-key', logger: quiet })
  let pending = 0
  let sequence = 0
  let settled
  const done = () => { if (--pending === 0) settled?.() }
  return {
    send: (e) => {
      pending++
      client.import('$mp_web_page_view', Date.now(), {
        distinct_id: e.clientIP, $insert_id: `bench-${++sequence}`, ip: e.clientIP, $current_url: e.url, $referrer: e.referrer, status: e.statusCode, duration_ms: e.durationMs
      }, done)
    },
    // One request per event, no queue: done when every callback has run.
    finish: (ms) => pending === 0 ? Promise.resolve() : Promise.race([new Promise((resolve) => { settled = resolve }), sleep(ms)])
  }
}

function sum (dropped) {
  let n = 0
  for (const v of Object.values(dropped)) n += v
  return n
}

let kinds = (process.env.BENCH_DELIVERY_CASES ?? 'webhook,ga4,ga4-redis,plausible,mixpanel,mixpanel-sdk,posthog,posthog-node,segment,segment-sdk,umami').split(',')
const redis = kinds.includes('ga4-redis') ? await startRedis() : undefined
if (kinds.includes('ga4-redis') && redis === undefined) kinds = kinds.filter((kind) => kind !== 'ga4-redis')
// A short warm-up per collector: JIT and connection pools as a running app would have them.
for (const kind of kinds) await measure(kind, Math.min(CASES[kind].events / 4, 20_000))
const runs = []
for (let round = 0; round < rounds; round++) {
  for (const kind of kinds) runs.push(await measure(kind, CASES[kind].events))
}
const summary = {}
for (const kind of kinds) {
  const mine = runs.filter((r) => r.kind === kind)
  summary[kind] = { median: median(mine.map((r) => r.eventsPerSec)), runs: mine }
}
redis?.stop()
report({ delivery: summary })

/** A throwaway redis-server on loopback (no persistence), pinned to core 0 when taskset exists. */
async function startRedis () {
  const port = await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)) })
  })
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning']
  let pinned = true
  try { execFileSync('taskset', ['-V'], { stdio: 'ignore' }) } catch { pinned = false }
  const child = pinned ? spawn('taskset', ['-c', '0', 'redis-server', ...args], { stdio: 'ignore' }) : spawn('redis-server', args, { stdio: 'ignore' })
  const failed = await new Promise((resolve) => { child.once('error', () => resolve(true)); child.once('spawn', () => resolve(false)) })
  for (let i = 0; i < 100; i++) {
    if (failed) break
    const up = await new Promise((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => { socket.destroy(); resolve(true) })
      socket.once('error', () => resolve(false))
    })
    if (up) {
      redisUrl = `redis://127.0.0.1:${port}`
      return { stop: () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }) } }
    }
    await sleep(50)
  }
  child.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
  process.stderr.write('delivery: redis-server did not start; the ga4-redis case is skipped (sudo apt-get install -y redis-server)\n')
  return undefined
}
