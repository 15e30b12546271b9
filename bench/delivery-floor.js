// Section 3b: delivery against its floor. CPU µs per event of each collector (stdout, GA4, webhook,
// Plausible), inline, against a hand-written loop doing the least the same delivery can: JSON.stringify
// of the same payloads and an undici Pool to the same local sink, with the same batches (requests)
// and the same concurrency; for stdout, the same lines written to the same kind of file with fs.write,
// one write in flight, in chunks of the size the collector writes. Collector and floor alternate round by
// round in one process; the ratio is paired per round.
//
// The collector's figure runs from its collect() to the sink's answer: it is fed the page views the
// HTTP benchmark produces (the 50 visitors through app.inject, fresh copies so nothing is memoised on
// them), CHUNK per turn while its queue has room, then flushed. The floor's payloads are what the
// collector sent (recorded once, before the measured rounds, through an undici interceptor; stdout's
// lines read back from its file), parsed back into objects: the floor pays for serialising and
// sending them, not for turning an event into them (that mapping is part of the collector's figure).
//
//   npm run build && node bench/delivery-floor.js        (starts its own sinks; pinned when taskset exists)
// Run by run.js (section 3) with BENCH_SINKS set. Bounded: a fixed event count per run and a time limit.
import Fastify from 'fastify'
import analytics from 'fastify-analytics'
import { stdoutCollector } from 'fastify-analytics/stdout'
import { ga4Collector } from 'fastify-analytics/ga4'
import { plausibleCollector } from 'fastify-analytics/plausible'
import { webhookCollector } from 'fastify-analytics/webhook'
import pino from 'pino'
import { Pool } from 'undici'
import { spawn, spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, write } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { sinkAdmin } from './sinks.js'
import { loadRequests, median, report, sleep, tick } from './common.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const rounds = Number(process.env.BENCH_ROUNDS ?? 3) + 2
const limitMs = Number(process.env.BENCH_DELIVERY_LIMIT_MS ?? 20_000)
const CHUNK = 500
// The collectors' default queue bound: feeding stops below it, so nothing is dropped as queueFull.
const QUEUE = 10_000
// The most one stdout write takes to a regular file (MAX_FILE_WRITE_UNITS in
// lib/collectors/stdout/fd-writer.ts): the floor's writes are the collector's.
const MAX_WRITE_UNITS = 1024 * 1024

// Standalone: pin to core 1 and start the sinks on core 0, as run.js does.
if (process.env.BENCH_SINKS === undefined && process.env.BENCH_FLOOR_CHILD !== '1') {
  const pinned = spawnSync('taskset', ['-V']).status === 0
  const sinks = spawn(pinned ? 'taskset' : process.execPath, [...(pinned ? ['-c', '0', process.execPath] : []), join(HERE, 'sinks.js')], { stdio: ['ignore', 'pipe', 'inherit'] })
  const urls = await new Promise((resolve, reject) => {
    let buffer = ''
    sinks.stdout.on('data', (chunk) => {
      buffer += chunk
      if (buffer.includes('\n')) resolve(buffer.slice(0, buffer.indexOf('\n')))
    })
    sinks.once('exit', (code) => reject(new Error(`sinks exited (${code})`)))
  })
  const args = [fileURLToPath(import.meta.url), ...process.argv.slice(2)]
  const child = spawnSync(pinned ? 'taskset' : process.execPath, pinned ? ['-c', '1', process.execPath, ...args] : args, {
    stdio: 'inherit', env: { ...process.env, BENCH_SINKS: urls, BENCH_FLOOR_CHILD: '1' }, timeout: 300_000
  })
  sinks.kill('SIGTERM')
  process.exit(child.status ?? 1)
}

const sinks = JSON.parse(process.env.BENCH_SINKS)
const admin = sinkAdmin(sinks.admin)
const dir = mkdtempSync(join(tmpdir(), 'bench-floor-'))
const silent = pino({ enabled: false })

// Each collector with its defaults, pointed at its sink; `concurrency` is its default (the floor's lanes).
const CASES = {
  stdout: { events: 40_000, concurrency: 1, make: (file) => stdoutCollector({ destination: file }) },
  ga4: { events: 40_000, concurrency: 4, make: (_, dispatcher) => ga4Collector({ measurementId: 'G-BENCH01', apiSecret: 'bench-secret', endpoint: sinks.ga4, dispatcher }) },
  webhook: { events: 40_000, concurrency: 1, make: (_, dispatcher) => webhookCollector({ url: sinks.webhook, dispatcher }) },
  plausible: { events: 8_000, concurrency: 8, make: (_, dispatcher) => plausibleCollector({ domain: 'shop.example', baseUrl: sinks.plausible, dispatcher }) }
}

// The bench page views, as the fan-out hands them to collectors (through the whole plugin).
const captured = []
{
  const capture = { name: 'capture', start () {}, collect (event) { captured.push(event) }, flush () {}, close () {} }
  const app = Fastify({ logger: false })
  await app.register(analytics, { collectors: [capture], requestContext: false })
  app.get('/products/:id', async (request, reply) => reply.type('text/html; charset=utf-8').send('<!doctype html><p>product</p>'))
  for (const r of loadRequests()) await app.inject({ method: 'GET', url: r.path, headers: r.headers })
  await app.close()
  if (captured.length !== 50) throw new Error(`expected 50 page views, got ${captured.length}`)
}

/** Fresh shallow copies: nothing an earlier run memoised on an event object flatters a later one. */
function freshEvents (count) {
  const events = new Array(count)
  for (let i = 0; i < count; i++) events[i] = { ...captured[i % captured.length], timestamp: new Date() }
  return events
}

const cpuNow = () => { const c = process.cpuUsage(); return c.user + c.system }

// A full collection before each measured run: the events made for it (and what earlier runs left)
// are old by then, so the run pays for its own garbage only, not for promoting the bench's inputs.
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc')

/** One collector run: collect() every event (CHUNK per turn while the queue has room), then flush. */
async function collectorRun (kind, { dispatcher, file } = {}) {
  const spec = CASES[kind]
  const path = file ?? join(dir, `${kind}.ndjson`)
  const collector = spec.make(path, dispatcher)
  const events = freshEvents(spec.events)
  await collector.start(AbortSignal.timeout(5000), { log: silent })
  gc()
  const deadline = performance.now() + limitMs
  const cpu0 = cpuNow()
  let fed = 0
  while (fed < events.length && performance.now() < deadline) {
    if (collector.stats().queued + CHUNK <= QUEUE) {
      const end = Math.min(fed + CHUNK, events.length)
      for (let i = fed; i < end; i++) collector.collect(events[i])
      fed = end
      await tick()
    } else {
      await sleep(1)
    }
  }
  await collector.flush(AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now()))))
  const cpu = cpuNow() - cpu0
  const stats = collector.stats()
  await collector.close(AbortSignal.timeout(5000))
  return { cpuPerEventUs: cpu / stats.delivered, delivered: stats.delivered, fed }
}

/** The collector's requests, recorded by an interceptor on the pool it sends through: the floor's payloads. */
async function recordRequests (kind) {
  const spec = CASES[kind]
  const origin = new URL(sinks[kind]).origin
  const recorded = []
  const pool = new Pool(origin, { connections: spec.concurrency })
  const dispatcher = pool.compose((dispatch) => (options, handler) => {
    recorded.push({ path: options.path, headers: { ...options.headers }, payload: JSON.parse(options.body) })
    return dispatch(options, handler)
  })
  await collectorRun(kind, { dispatcher })
  await pool.close()
  const events = (payload) => kind === 'plausible' ? 1 : payload.events.length
  return recorded.map((r) => ({ ...r, events: events(r.payload) }))
}

/** The floor of an HTTP collector: JSON.stringify each recorded payload and POST it, `concurrency` in flight. */
async function httpFloor (kind, requests) {
  const spec = CASES[kind]
  const pool = new Pool(new URL(sinks[kind]).origin, { connections: spec.concurrency, keepAliveTimeout: 4000 })
  gc()
  const cpu0 = cpuNow()
  let next = 0
  let events = 0
  const lane = async () => {
    while (next < requests.length) {
      const { path, headers, payload, events: count } = requests[next++]
      const response = await pool.request({ path, method: 'POST', headers, body: JSON.stringify(payload) })
      await response.body.text()
      if (response.statusCode < 300) events += count
    }
  }
  await Promise.all(Array.from({ length: spec.concurrency }, lane))
  const cpu = cpuNow() - cpu0
  await pool.close()
  return { cpuPerEventUs: cpu / events, delivered: events }
}

/** stdout's floor: the same lines (JSON.stringify of each, parsed back), joined into writes of at most 1 M units (the collector's to a file), one in flight. */
async function stdoutFloor (lines) {
  const fd = openSync(join(dir, 'floor.ndjson'), 'w')
  gc()
  const cpu0 = cpuNow()
  let i = 0
  while (i < lines.length) {
    let chunk = ''
    while (i < lines.length && chunk.length < MAX_WRITE_UNITS) chunk += JSON.stringify(lines[i++]) + '\n'
    const buffer = Buffer.from(chunk, 'utf8')
    await new Promise((resolve, reject) => write(fd, buffer, 0, buffer.length, null, (error) => error ? reject(error) : resolve()))
  }
  const cpu = cpuNow() - cpu0
  closeSync(fd)
  return { cpuPerEventUs: cpu / lines.length, delivered: lines.length }
}

async function recordLines () {
  const file = join(dir, 'stdout-record.ndjson')
  await collectorRun('stdout', { file })
  return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line))
}

const kinds = (process.env.BENCH_FLOOR_CASES ?? 'stdout,ga4,webhook,plausible').split(',')
// For a profile of the collectors alone (`node --cpu-prof bench/delivery-floor.js` with BENCH_SINKS
// from `node bench/sinks.js`): collector runs only, no figures.
if (process.env.BENCH_FLOOR_ONLY === 'collector') {
  for (let round = 0; round < rounds; round++) for (const kind of kinds) await collectorRun(kind)
  rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}
const payloads = {}
const floor = (kind) => kind === 'stdout' ? stdoutFloor(payloads.stdout) : httpFloor(kind, payloads[kind])
// Warm-up: JIT, connections, and the recording of the floor's payloads.
for (const kind of kinds) {
  payloads[kind] = kind === 'stdout' ? await recordLines() : await recordRequests(kind)
  await collectorRun(kind)
  await floor(kind)
}
const runs = {}
for (const kind of kinds) runs[kind] = []
for (let round = 0; round < rounds; round++) {
  for (const kind of kinds) {
    // Alternating which goes first, so neither always runs on a warmer cache.
    await admin.reset()
    const first = round % 2 === 0
    const a = first ? await collectorRun(kind) : await floor(kind)
    const b = first ? await floor(kind) : await collectorRun(kind)
    const collector = first ? a : b
    const base = first ? b : a
    const { counts } = await admin.counts()
    const sink = counts[kind]
    runs[kind].push({
      collectorUs: collector.cpuPerEventUs,
      floorUs: base.cpuPerEventUs,
      ratio: collector.cpuPerEventUs / base.cpuPerEventUs,
      events: CASES[kind].events,
      // Both runs' events reach the sink (stdout has none): the collector's all delivered, the floor's too.
      complete: collector.delivered === CASES[kind].events && base.delivered === CASES[kind].events &&
        (kind === 'stdout' || sink.events === collector.delivered + base.delivered),
      requests: kind === 'stdout' ? undefined : payloads[kind].length
    })
  }
}
rmSync(dir, { recursive: true, force: true })
const summary = {}
for (const kind of kinds) {
  const r = runs[kind]
  summary[kind] = {
    collectorUs: median(r.map((x) => x.collectorUs)),
    floorUs: median(r.map((x) => x.floorUs)),
    ratio: median(r.map((x) => x.ratio)),
    runs: r
  }
}
if (typeof process.send === 'function') report({ floor: summary })
else {
  process.stdout.write('collector   collector µs/event   floor µs/event   ratio (median; runs)\n')
  for (const [kind, s] of Object.entries(summary)) {
    process.stdout.write(`${kind.padEnd(11)} ${s.collectorUs.toFixed(2).padStart(17)}   ${s.floorUs.toFixed(2).padStart(14)}   ${s.ratio.toFixed(2)} (${s.runs.map((x) => x.ratio.toFixed(2)).join(', ')})${s.runs.every((x) => x.complete) ? '' : '  INCOMPLETE'}\n`)
    if (process.env.BENCH_FLOOR_RAW === '1') process.stdout.write(`${''.padEnd(11)} ${s.runs.map((x) => `${x.collectorUs.toFixed(2)}/${x.floorUs.toFixed(2)}`).join(', ')}\n`)
  }
  process.exit(0)
}
