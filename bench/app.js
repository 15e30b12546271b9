// The Fastify app under test. Config from argv[2]:
//   bare | discard | discard-noctx | stdout | three (stdout + GA4 + webhook) | four (+ Plausible) | plausible | posthog | segment
//   | segment-plugin (the plugin's Segment collector, beside `segment`, the SDK) | umami
//   | mixpanel | posthog-collector (the plugin's collectors) | mixpanel-sdk (the `mixpanel` SDK, import() per request)
//   (diagnosis: ga4 | webhook alone; requestcontext = bare + the @fastify/request-context the plugin registers)
// Sink URLs come from BENCH_SINKS (JSON). The orchestrator talks to it over IPC:
//   { cmd: 'snapshot' } → CPU time, memory, requests handled, app.analytics.stats()
//   { cmd: 'close' }    → app.close(), timed, then the final figures; the process then exits.
// stdout is /dev/null (the stdout collector writes its NDJSON there); nothing else is printed.
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import Fastify from 'fastify'

// `<config>-prev` (e.g. discard-prev): the plugin from another build, BENCH_PREV_DIST (a package root
// with its own node_modules, e.g. a clone of the previous release after `npm ci`), under the same
// app and load: how this release's request path compares with that one's, paired in one run.
const prev = process.argv[2]?.endsWith('-prev') === true
if (prev && process.env.BENCH_PREV_DIST === undefined) throw new Error('a -prev config needs BENCH_PREV_DIST')
const pluginModule = prev ? new URL(`file://${process.env.BENCH_PREV_DIST}/dist/lib/index.js`).href : 'fastify-analytics'
// `<config>-worker` (e.g. four-worker, four-noctx-worker): the same collectors with delivery: 'worker'.
// `<config>-json` (e.g. bare-json, four-json): the route answers JSON, so it yields no event under the
// default pageViews: 'html': what most requests of most apps cost with the plugin registered.
const jsonRoute = process.argv[2]?.includes('-json') === true
const argConfig = (process.argv[2] ?? 'bare').replace(/-prev$/, '').replace(/-json/, '')
const delivery = argConfig.endsWith('-worker') ? 'worker' : 'inline'

const config = argConfig.replace(/-worker$/, '')
const sinks = JSON.parse(process.env.BENCH_SINKS ?? '{}')
const shutdownTimeoutMs = Number(process.env.BENCH_SHUTDOWN_MS ?? 10_000)

const app = Fastify({ logger: false })
let handled = 0
let generated = 0
let thirdParty

const discardCollector = {
  name: 'discard',
  start () {},
  collect () {},
  flush () {},
  close () {}
}

async function collectors (names) {
  const list = []
  for (const name of names) {
    if (name === 'discard') list.push(discardCollector)
    if (name === 'stdout') {
      const { stdoutCollector } = await import('fastify-analytics/stdout')
      list.push(stdoutCollector())
    }
    if (name === 'ga4') {
      const { ga4Collector } = await import('fastify-analytics/ga4')
      list.push(ga4Collector({ measurementId: 'G-BENCH01', apiSecret: 'bench-secret', endpoint: sinks.ga4 }))
    }
    if (name === 'plausible') {
      const { plausibleCollector } = await import('fastify-analytics/plausible')
      list.push(plausibleCollector({ domain: 'bench.example', baseUrl: sinks.plausible }))
    }
    if (name === 'webhook') {
      const { webhookCollector } = await import('fastify-analytics/webhook')
      list.push(webhookCollector({ url: sinks.webhook }))
    }
    if (name === 'mixpanel') {
      const { mixpanelCollector } = await import('fastify-analytics/mixpanel')
      list.push(mixpanelCollector({ projectToken: 'bench-token', endpoint: sinks.mixpanel }))
    }
    if (name === 'posthog') {
      const { posthogCollector } = await import('fastify-analytics/posthog')
      list.push(posthogCollector({ apiKey: 'phc_bench', host: sinks.posthog }))
    }
    if (name === 'segment') {
      const { segmentCollector } = await import('fastify-analytics/segment')
      list.push(segmentCollector({ writeKey: 'bench', endpoint: sinks.segment }))
    }
    if (name === 'umami') {
      const { umamiCollector } = await import('fastify-analytics/umami')
      list.push(umamiCollector({ websiteId: '6a0f3c1e-2b4d-4e5f-8a9b-0c1d2e3f4a5b', baseUrl: sinks.umami }))
    }
  }
  return list
}

const PLUGIN_CONFIGS = {
  discard: ['discard'],
  'discard-noctx': ['discard'],
  stdout: ['stdout'],
  three: ['stdout', 'ga4', 'webhook'],
  four: ['stdout', 'ga4', 'plausible', 'webhook'],
  plausible: ['plausible'],
  ga4: ['ga4'],
  webhook: ['webhook'],
  mixpanel: ['mixpanel'],
  'posthog-collector': ['posthog'],
  // Issue 25: the plugin's collectors beside the vendors' SDKs doing the same job (`segment` is the SDK).
  'segment-plugin': ['segment'],
  umami: ['umami']
}

// `<config>-noctx`: any plugin config without @fastify/request-context (requestContext: false), to show its share.
const pluginConfig = PLUGIN_CONFIGS[config.replace(/-(noctx|ctx)$/, '')]
if (pluginConfig !== undefined) {
  const { default: analytics } = await import(pluginModule)
  // -noctx / -ctx: the plugin's request context off / on; otherwise its default (on with Node 24+).
  const requestContext = config.endsWith('-noctx') ? false : config.endsWith('-ctx') ? true : undefined
  await app.register(analytics, { collectors: await collectors(pluginConfig), shutdownTimeoutMs, requestContext, ...(prev ? {} : { delivery }) })
  // Worker mode: the orchestrator starts the app on the load core; the main thread (tid = pid) moves
  // to the app core, the delivery worker (started at registration) and the threads V8 and libuv
  // started before this line stay on the load core.
  if (delivery === 'worker' && process.env.BENCH_MAIN_CORE !== undefined) spawnSync('taskset', ['-p', '-c', process.env.BENCH_MAIN_CORE, String(process.pid)], { stdio: 'ignore' })
} else if (config === 'posthog') {
  // One capture() per request in onResponse, their defaults except the host.
  const { PostHog } = await import('posthog-node')
  const client = new PostHog('phc_bench', { host: sinks.posthog })
  thirdParty = () => client.shutdown()
  app.addHook('onResponse', function posthogOnResponse (request, reply, done) {
    generated++
    client.capture({
      distinctId: request.ip,
      event: '$pageview',
      properties: {
        $current_url: `${request.protocol}://${request.host}${request.url}`,
        $pathname: request.url,
        $referrer: request.headers.referer,
        $ip: request.ip,
        $raw_user_agent: request.headers['user-agent'],
        status: reply.statusCode,
        duration_ms: reply.elapsedTime
      }
    })
    done()
  })
} else if (config === 'mixpanel-sdk') {
  // One import() per request in onResponse (the SDK has no batching for single events), its defaults
  // but the host; /import needs credentials, and an api key is the one it sends over plain HTTP.
  const { default: Mixpanel } = await import('mixpanel')
  const url = new URL(sinks.mixpanel)
  const quiet = { trace () {}, debug () {}, info () {}, warn () {}, error () {} }
  const client = Mixpanel.init('bench-token', { host: url.hostname, port: url.port, protocol: 'http', key: 'bench-key', logger: quiet })
  let pending = 0
  let drained
  thirdParty = () => pending === 0 ? undefined : new Promise((resolve) => { drained = resolve; setTimeout(resolve, shutdownTimeoutMs).unref() })
  const settle = () => { if (--pending === 0) drained?.() }
  app.addHook('onResponse', function mixpanelOnResponse (request, reply, done) {
    generated++
    pending++
    client.import('$mp_web_page_view', Date.now(), {
      distinct_id: request.ip,
      $insert_id: `bench-${generated}`,
      ip: request.ip,
      $current_url: `${request.protocol}://${request.host}${request.url}`,
      $referrer: request.headers.referer,
      status: reply.statusCode,
      duration_ms: reply.elapsedTime
    }, settle)
    done()
  })
} else if (config === 'segment') {
  const { Analytics } = await import('@segment/analytics-node')
  const client = new Analytics({ writeKey: 'bench', host: sinks.segment })
  thirdParty = () => client.closeAndFlush({ timeout: shutdownTimeoutMs })
  app.addHook('onResponse', function segmentOnResponse (request, reply, done) {
    generated++
    client.page({
      anonymousId: request.ip,
      name: request.routeOptions.url,
      properties: {
        url: `${request.protocol}://${request.host}${request.url}`,
        path: request.url,
        referrer: request.headers.referer,
        status: reply.statusCode,
        durationMs: reply.elapsedTime
      },
      context: { ip: request.ip, userAgent: request.headers['user-agent'] }
    })
    done()
  })
} else if (config === 'requestcontext') {
  // Diagnosis: only the @fastify/request-context the plugin registers, to separate its cost.
  const { fastifyRequestContext } = await import('@fastify/request-context')
  await app.register(fastifyRequestContext)
} else if (config !== 'bare') {
  throw new Error(`unknown config ${config}`)
}

// An HTML page, as a product page is: under the default pageViews: 'html' only HTML responses are page views.
app.get('/products/:id', async (request, reply) => {
  handled++
  if (jsonRoute) return { id: request.params.id, name: 'Bench product', price: '29.99' }
  reply.type('text/html; charset=utf-8')
  return `<!doctype html><title>Bench product</title><h1>Product ${request.params.id}</h1><p>£29.99</p>`
})

// The main thread's own CPU time, in µs: schedstat's nanoseconds on CPU (the stat file's utime+stime
// count 10 ms ticks, too coarse for a 5 s window); null where /proc is not there.
const MAIN_TASK = `/proc/self/task/${process.pid}`
function mainThreadCpuUs () {
  try {
    return Number(readFileSync(`${MAIN_TASK}/schedstat`, 'utf8').split(' ')[0]) / 1000
  } catch {
    try {
      const fields = readFileSync(`${MAIN_TASK}/stat`, 'utf8').split(') ')[1].split(' ')
      return (Number(fields[11]) + Number(fields[12])) * 10_000 // utime + stime, in 100 Hz ticks
    } catch {
      return null
    }
  }
}

function snapshot () {
  const usage = process.resourceUsage()
  return {
    handled,
    generated,
    cpuUs: usage.userCPUTime + usage.systemCPUTime,
    mainCpuUs: mainThreadCpuUs(),
    // Only the main thread is pinned to the app core (worker mode): the orchestrator splits the CPU.
    pinnedMainOnly: delivery === 'worker' && process.env.BENCH_MAIN_CORE !== undefined,
    rss: process.memoryUsage.rss(),
    maxRssKb: usage.maxRSS,
    hrMs: Number(process.hrtime.bigint()) / 1e6,
    stats: app.analytics?.stats()
  }
}

let profiler
process.on('message', async (message) => {
  if (message.cmd === 'snapshot') {
    process.send({ id: message.id, ...snapshot() })
  } else if (message.cmd === 'profile-start') {
    // The orchestrator profiles the measured window only: no start-up, no warm-up (first parses, JIT).
    profiler = new Session()
    profiler.connect()
    await profiler.post('Profiler.enable')
    await profiler.post('Profiler.start')
    process.send({ id: message.id, handled })
  } else if (message.cmd === 'profile-stop') {
    const { profile } = await profiler.post('Profiler.stop')
    profiler.disconnect()
    writeFileSync(message.file, JSON.stringify(profile))
    process.send({ id: message.id, handled })
  } else if (message.cmd === 'close') {
    const before = snapshot()
    const started = performance.now()
    await app.close()
    if (thirdParty !== undefined) await thirdParty()
    const closeMs = performance.now() - started
    process.send({ id: message.id, closeMs, before, ...snapshot() }, () => process.exit(0))
  }
})

await app.listen({ port: 0, host: '127.0.0.1' })
process.send({ ready: true, port: app.server.address().port })
