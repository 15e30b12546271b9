// Soak: a Fastify app with the plugin (GA4, Plausible and webhook collectors) under steady load
// while all three destinations flap between healthy and dead, then a complete accounting.
// Not part of `npm test` (tap only runs test/**/*.test.ts): `npm run soak`.
//
//   SOAK_SECONDS  run length (default 300)        SOAK_RATE  requests per second (default 1000)
//   SOAK_PHASE_SECONDS  length of each destination phase (default 10)
//
// The app runs in a child process so its RSS is measured alone; the destinations and the load
// generator run here. The run fails (exit code 1) if the accounting does not balance, if a request
// failed, if a destination saw a request that breaks its rules, or if memory kept growing.
import { fork } from 'node:child_process'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { totalDropped } from 'fastify-analytics'

const SECONDS = positive('SOAK_SECONDS', 300)
const RATE = positive('SOAK_RATE', 1000)
const PHASE_MS = positive('SOAK_PHASE_SECONDS', 10) * 1000
const SAMPLE_MS = 2000
const SHUTDOWN_TIMEOUT_MS = 10_000
const DOMAIN = 'shop.example'
const SECRET = 'whsec_' + Buffer.from('soak test secret of 32 bytes!!!!').toString('base64')
const API_SECRET = 'soak-api-secret-value'

function positive (name, fallback) {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`)
  return value
}

// ---- the app (child process) --------------------------------------------------------------

async function runApp (origins) {
  const { default: Fastify } = await import('fastify')
  const { default: analytics, Money } = await import('fastify-analytics')
  const { ga4Collector } = await import('fastify-analytics/ga4')
  const { plausibleCollector } = await import('fastify-analytics/plausible')
  const { webhookCollector } = await import('fastify-analytics/webhook')
  // Short timeouts and retries so a dead phase shows queueing, retries and drops within seconds.
  const delivery = { timeoutMs: 1000, retry: { baseDelayMs: 100, maxDelayMs: 2000, maxAttempts: 4 } }
  let logLines = 0
  let secretsLogged = 0
  const logStream = {
    write (line) {
      logLines++
      if (line.includes(API_SECRET) || line.includes(SECRET.slice(6))) secretsLogged++
    }
  }
  // trustProxy on loopback only: the load generator plays the proxy and sets X-Forwarded-For,
  // so visitors have thousands of distinct IPs (GA4 client ids, sessions and caches fill to their bounds).
  const app = Fastify({ logger: { level: 'warn', stream: logStream }, trustProxy: '127.0.0.1' })
  await app.register(analytics, {
    // Every GET counts and no bot detection: the soak measures delivery, not what counts.
    pageViews: 'all',
    bots: 'keep',
    shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS,
    collectors: [
      ga4Collector({ measurementId: 'G-SOAK1', apiSecret: API_SECRET, endpoint: origins.ga4, flushIntervalMs: 500, ...delivery }),
      plausibleCollector({ domain: DOMAIN, baseUrl: origins.plausible, ...delivery }),
      webhookCollector({ url: `${origins.webhook}/hooks/analytics`, secret: SECRET, flushIntervalMs: 500, ...delivery })
    ]
  })
  app.get('/products/:id', async (request) => {
    request.analytics.addProperty('category', 'books')
    return { id: request.params.id }
  })
  app.post('/checkout', { config: { analytics: { action: 'checkout' } } }, async (request) => {
    request.analytics.setRevenue(Money.fromMinor(2999, 'GBP'))
    request.analytics.track({ type: 'custom', eventName: 'coupon.applied', properties: { code: 'SOAK' } })
    return { ok: true }
  })
  app.get('/search', async (request) => {
    request.analytics.setEventName('search.submitted')
    return { results: [] }
  })
  // Orphaned (the parent died): go, rather than serve nobody for ever.
  process.on('disconnect', () => process.exit(1))
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const sampler = setInterval(() => {
    const { rss, heapUsed } = process.memoryUsage()
    process.send({ type: 'sample', rss, heapUsed, queued: queuedNow(app) })
  }, SAMPLE_MS)
  process.send({ type: 'ready', address })
  process.on('message', async (message) => {
    if (message.type !== 'close') return
    clearInterval(sampler)
    const started = Date.now()
    await app.close()
    const { rss, heapUsed } = process.memoryUsage()
    process.send({
      type: 'closed',
      closeMs: Date.now() - started,
      rss,
      heapUsed,
      stats: app.analytics.stats(),
      logLines,
      secretsLogged
    }, () => process.exit(0))
  })
}

function queuedNow (app) {
  let queued = 0
  for (const figures of Object.values(app.analytics.stats().collectors)) queued += figures.queued + figures.inFlight
  return queued
}

// ---- destinations, load and report (parent process) ------------------------------------------

/** The destination's state for the phase: healthy, then each way of being dead in turn. */
const DEAD = ['503', 'refused', 'hang', 'reset', '429', 'slow']

function phaseAt (elapsedMs, totalMs) {
  // The last phase is always healthy, long enough for everything queued to drain before close.
  if (elapsedMs >= totalMs - PHASE_MS) return 'healthy'
  const n = Math.floor(elapsedMs / PHASE_MS)
  return n % 2 === 0 ? 'healthy' : DEAD[(n >> 1) % DEAD.length]
}

async function startDestination (name, countEvents) {
  const figures = { name, requests: 0, acked: 0, ackedEvents: 0, ids: new Set(), duplicateIds: 0, violations: 0 }
  const sockets = new Set()
  let state = 'healthy'
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      figures.requests++
      const body = Buffer.concat(chunks).toString('utf8')
      let events = 0
      try {
        events = countEvents(body, req, figures)
      } catch {
        figures.violations++
      }
      const ack = (status) => {
        figures.acked++
        figures.ackedEvents += events
        res.writeHead(status).end()
      }
      switch (state) {
        case 'healthy': ack(name === 'plausible' ? 202 : 200); return
        case '503': res.writeHead(503).end(); return
        case '429': res.writeHead(429, { 'retry-after': '1' }).end(); return
        case 'hang': return
        case 'reset': req.socket.destroy(); return
        // Answers after the collectors' 1 s timeout: the event arrived, the collector never knows.
        case 'slow': setTimeout(() => { if (!res.destroyed) res.writeHead(200).end() }, 1500); return
        default: req.socket.destroy()
      }
    })
  })
  server.keepAliveTimeout = 5000
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = server.address().port
  let listening = true
  return {
    figures,
    origin: `http://127.0.0.1:${port}`,
    async setState (next) {
      if (next === state) return
      state = next
      if (next === 'refused' && listening) {
        listening = false
        for (const socket of sockets) socket.destroy()
        await new Promise((resolve) => server.close(resolve))
      } else if (next !== 'refused' && !listening) {
        listening = true
        await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve))
      }
    },
    async close () {
      for (const socket of sockets) socket.destroy()
      if (listening) await new Promise((resolve) => server.close(resolve))
    }
  }
}

function ga4Events (body, req) {
  const url = new URL(req.url, 'http://x')
  if (url.searchParams.get('api_secret') !== API_SECRET) throw new Error('no secret')
  const parsed = JSON.parse(body)
  if (typeof parsed.client_id !== 'string' || !Array.isArray(parsed.events) || parsed.events.length > 25) throw new Error('bad body')
  return parsed.events.length
}

function plausibleEvents (body, req) {
  const parsed = JSON.parse(body)
  if (parsed.domain !== DOMAIN || typeof parsed.name !== 'string' || !req.headers['user-agent']) throw new Error('bad body')
  return 1
}

function webhookEvents (body, req, figures) {
  const parsed = JSON.parse(body)
  if (req.headers['webhook-id'] !== parsed.id || !/^v1,/.test(req.headers['webhook-signature'] ?? '')) throw new Error('bad body')
  if (figures.ids.has(parsed.id)) figures.duplicateIds++
  else figures.ids.add(parsed.id)
  return parsed.events.length
}

function loadRequests () {
  const requests = []
  for (let v = 0; v < 200; v++) {
    const headers = {
      'user-agent': `Mozilla/5.0 (X11; Linux x86_64) Firefox/${100 + (v % 30)}.0 soak/${v}`,
      'accept-language': 'en-GB,en;q=0.9',
      referer: 'https://www.example.com/',
      // A fresh client IP per visitor; the proxy is 127.0.0.1, which trustProxy believes.
      'x-forwarded-for': `198.51.${v >> 8}.${v & 255}`
    }
    if (v % 3 === 0) headers.cookie = `_ga=GA1.1.${1000000 + v}.1700000000; _ga_SOAK1=GS2.1.s1700000${v}$o1$g1`
    if (v % 10 === 0) requests.push({ method: 'POST', path: '/checkout', headers: { ...headers, 'content-type': 'application/json' }, body: '{"plan":"annual"}' })
    else if (v % 10 === 1) requests.push({ method: 'GET', path: `/search?q=${v}`, headers })
    else requests.push({ method: 'GET', path: `/products/${v}`, headers })
  }
  return requests
}

function mb (bytes) { return `${(bytes / 1048576).toFixed(1)} MB` }

async function main () {
  const totalMs = SECONDS * 1000
  const destinations = {
    ga4: await startDestination('ga4', ga4Events),
    plausible: await startDestination('plausible', plausibleEvents),
    webhook: await startDestination('webhook', webhookEvents)
  }
  const origins = Object.fromEntries(Object.entries(destinations).map(([name, d]) => [name, d.origin]))
  const child = fork(fileURLToPath(import.meta.url), ['app', JSON.stringify(origins)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const samples = []
  let closed
  const ready = new Promise((resolve) => {
    child.on('message', (message) => {
      if (message.type === 'ready') resolve(message.address)
      else if (message.type === 'sample') samples.push({ at: Date.now(), ...message })
      else if (message.type === 'closed') closed = message
    })
  })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  const address = await ready
  console.log(`soak: ${SECONDS} s at ${RATE} req/s against ${address}; destinations flap every ${PHASE_MS / 1000} s (${DEAD.join(', ')})`)

  const started = Date.now()
  const phases = []
  const flapper = setInterval(async () => {
    const phase = phaseAt(Date.now() - started, totalMs)
    if (phases.at(-1) !== phase) phases.push(phase)
    // The three destinations fail in different ways at once: GA4 as scheduled, the others shifted.
    await destinations.ga4.setState(phase)
    await destinations.plausible.setState(phase === 'healthy' ? 'healthy' : DEAD[(DEAD.indexOf(phase) + 2) % DEAD.length])
    await destinations.webhook.setState(phase === 'healthy' ? 'healthy' : DEAD[(DEAD.indexOf(phase) + 4) % DEAD.length])
  }, 100)

  const load = await autocannon({
    url: address,
    connections: 50,
    overallRate: RATE,
    duration: SECONDS,
    requests: loadRequests()
  })
  clearInterval(flapper)
  for (const d of Object.values(destinations)) await d.setState('healthy')

  child.send({ type: 'close' })
  await exited
  for (const d of Object.values(destinations)) await d.close()
  if (closed === undefined) {
    console.error('soak: the app exited without reporting')
    process.exit(1)
  }
  report({ load, samples, closed, destinations, phases })
}

function report ({ load, samples, closed, destinations, phases }) {
  const rss = samples.map((s) => s.rss)
  const heap = samples.map((s) => s.heapUsed)
  const half = Math.floor(samples.length / 2)
  // Flat memory: the second half of the run never goes far above the first half's peak (warm-up,
  // queues and caches filling to their bounds all happen within the first dead phases).
  const firstHalfMax = Math.max(...rss.slice(0, half))
  const secondHalfMax = Math.max(...rss.slice(half))
  const flat = secondHalfMax <= firstHalfMax * 1.25 + 16 * 1048576
  const { stats } = closed
  const served = load.requests.total
  const errors = load.errors + load.timeouts + load.non2xx

  const rows = [['figure', 'value']]
  rows.push(['duration / target rate', `${SECONDS} s / ${RATE} req/s`])
  rows.push(['requests served (2xx)', String(load['2xx'])])
  rows.push(['requests total / errors / timeouts / non-2xx', `${served} / ${load.errors} / ${load.timeouts} / ${load.non2xx}`])
  rows.push(['latency p50 / p99 / max', `${load.latency.p50} / ${load.latency.p99} / ${load.latency.max} ms`])
  rows.push(['RSS samples (every 2 s)', `${rss.length}`])
  rows.push(['RSS min / max / last', `${mb(Math.min(...rss))} / ${mb(Math.max(...rss))} / ${mb(rss.at(-1))}`])
  rows.push(['RSS max 1st half / 2nd half', `${mb(firstHalfMax)} / ${mb(secondHalfMax)} (${flat ? 'flat' : 'GROWING'})`])
  rows.push(['heapUsed min / max / last', `${mb(Math.min(...heap))} / ${mb(Math.max(...heap))} / ${mb(heap.at(-1))}`])
  rows.push(['queued + in flight, max seen', String(Math.max(...samples.map((s) => s.queued)))])
  rows.push(['RSS after close', mb(closed.rss)])
  rows.push(['close() took', `${closed.closeMs} ms (deadline ${SHUTDOWN_TIMEOUT_MS} ms)`])
  rows.push(['events generated (emitted) / invalid', `${stats.events.emitted} / ${stats.events.invalid}`])
  rows.push(['destination phases', phases.join(' → ')])
  rows.push(['log lines (warn+) / with a secret', `${closed.logLines} / ${closed.secretsLogged}`])

  let balanced = true
  const collectorRows = [['collector', 'accepted', 'delivered', 'dropped by reason', 'retries', 'left', 'invariant', 'dest. requests / acked events / rule violations']]
  for (const [name, f] of Object.entries(stats.collectors)) {
    const dropped = totalDropped(f.dropped)
    const ok = f.accepted === f.delivered + dropped && f.queued === 0 && f.inFlight === 0 && f.accepted === stats.events.emitted
    balanced &&= ok
    const reasons = Object.entries(f.dropped).filter(([, n]) => n > 0).map(([reason, n]) => `${reason} ${n}`).join(', ') || 'none'
    const d = destinations[name].figures
    const dest = `${d.requests} / ${d.ackedEvents}${name === 'webhook' ? ` (${d.duplicateIds} re-sent ids)` : ''} / ${d.violations}`
    collectorRows.push([name, String(f.accepted), String(f.delivered), reasons, String(f.retries), String(f.queued + f.inFlight),
      ok ? `${f.accepted} = ${f.delivered} + ${dropped} ✓` : 'BROKEN', dest])
    // Every event counted delivered was acknowledged by the destination (acks include duplicates).
    if (d.ackedEvents < f.delivered) balanced = false
  }
  const violations = Object.values(destinations).reduce((n, d) => n + d.figures.violations, 0)
  console.log('\n' + table(rows) + '\n\n' + table(collectorRows) + '\n')
  const pass = balanced && flat && errors === 0 && violations === 0 && closed.secretsLogged === 0
  console.log(`soak ${pass ? 'PASSED' : 'FAILED'}: invariant ${balanced ? 'holds' : 'BROKEN'}, memory ${flat ? 'flat' : 'growing'}, ` +
    `${errors} request errors, ${violations} destination rule violations, ${closed.secretsLogged} secrets logged`)
  process.exit(pass ? 0 : 1)
}

function table (rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)))
  const line = (row) => '| ' + row.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ') + ' |'
  return [line(rows[0]), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.slice(1).map(line)].join('\n')
}

// Last, so every module-level constant above is initialised before either role runs.
if (process.argv[2] === 'app') await runApp(JSON.parse(process.argv[3]))
else await main()
