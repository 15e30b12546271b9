// The plugin's own CPU cost per request, in process: its onRequest and onResponse hooks called
// directly, as Fastify calls them, on request/reply pairs captured from real requests (so every
// getter read is Fastify's), minus the same loop without the hooks. What §1 measures over HTTP
// hides this figure in ~16 µs of Fastify and Node per request and in the noise of a shared
// machine; here it is the only thing measured. Run after `npm run build`:
//
//   node bench/request-path.js                 # this tree
//   node bench/request-path.js /path/to/dist   # … beside another build (e.g. the previous release's)
//
// Each loop: onRequest, onResponse (the automatic event: classification, enrichment, privacy,
// fan-out to a collector that discards), then the response's 'close' event the plugin listens to.
// Every request carries a fresh User-Agent string (as a parsed request does) among the 50 visitors.
// Bounded: ROUNDS × CALLS per configuration, and a 120 s ceiling.
//
// Visitors, visits and country (on by default) are measured apart, requestContext: false: `VISITS=1`
// runs only the four visit configurations — the 50 returning visitors (ids, countries and visits
// cached) and a new visitor per call (a fresh public IP: an HMAC, a country lookup, a visit
// inserted into the bounded store), each with `visits`/`geo` on and off.
//
// On a machine too busy for CPU time to mean much, count instructions instead: `ONCE=1` runs one
// loop of CALLS for one build (`bare` for the loop alone) and nothing else, so under valgrind
// (instructions per request = difference of the two totals ÷ CALLS):
//
//   ONCE=1 CALLS=100000 valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/request-path.js bare
//   ONCE=1 CALLS=100000 valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/request-path.js dist
import Fastify from 'fastify'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { loadRequests } from './common.js'

const ROUNDS = Number(process.env.ROUNDS ?? 7)
const CALLS = Number(process.env.CALLS ?? 100_000)
const DEADLINE = Date.now() + 120_000
const ownDist = new URL('../dist/', import.meta.url)
const otherDist = process.argv[2] === undefined ? undefined : pathToFileURL(resolve(process.argv[2]) + '/')

const discard = { name: 'discard', start () {}, collect () {}, flush () {}, close () {} }
const requests = loadRequests()
const FRESH = 10_000
// Copies made through a Buffer are flat strings without a cached hash, like the HTTP parser's.
const agents = Array.from({ length: FRESH }, (_, i) => Buffer.from(requests[i % requests.length].headers['user-agent']).toString('latin1'))
const noop = () => {}
const NOEVENT = process.env.NOEVENT === '1'
const WORKER = process.env.WORKER === '1'

/** An app with the plugin, its two request hooks, and request/reply pairs of finished requests. */
async function build (dist, requestContext, extra = {}) {
  const app = Fastify({ logger: false })
  const hooks = {}
  if (dist !== undefined) {
    const { default: analytics } = await import(new URL('lib/index.js', dist).href)
    const addHook = app.addHook
    // fastify-plugin runs the plugin on this very instance: its hooks pass through here by name.
    app.addHook = function capture (name, fn) {
      if (name === 'onRequest' || name === 'onResponse') hooks[name] = fn
      return addHook.call(this, name, fn)
    }
    // WORKER=1: stdout to /dev/null in the delivery worker, so the pipeline runs there and what is
    // measured is what stays on the request thread (the capture and the hand-over).
    const collectors = WORKER ? [(await import(new URL('lib/collectors/stdout.js', dist).href)).stdoutCollector({ destination: '/dev/null' })] : [discard]
    await app.register(analytics, { collectors, requestContext, ...(WORKER ? { delivery: 'worker' } : {}), ...extra })
    app.addHook = addHook
  }
  const pairs = []
  app.addHook('onResponse', (request, reply, done) => { pairs.push([request, reply]); done() })
  app.get('/products/:id', async (request, reply) => {
    // NOEVENT=1: a JSON answer, no event under the default pageViews: 'html' (most requests of most apps).
    if (NOEVENT) return { product: request.params.id }
    reply.type('text/html; charset=utf-8')
    return '<p>product</p>'
  })
  await app.ready()
  for (const r of requests) await app.inject({ method: 'GET', url: r.path, headers: r.headers })
  for (const [, reply] of pairs) reply.raw.removeAllListeners('close')
  return { app, hooks, pairs }
}

// A new visitor per call: public addresses (none in a special-purpose range), made before timing.
const freshIps = Array.from({ length: CALLS }, (_, i) => `${11 + ((i >> 16) & 0x3f)}.${(i >> 8) & 0xff}.${i & 0xff}.${1 + (i % 200)}`)

function measure ({ hooks, pairs }, newVisitors = false) {
  const onRequest = hooks.onRequest ?? noop
  const onResponse = hooks.onResponse ?? noop
  const start = process.cpuUsage()
  const startMain = mainThreadUs()
  for (let i = 0; i < CALLS; i++) {
    const [request, reply] = pairs[i % pairs.length]
    request.raw.headers['user-agent'] = agents[i % FRESH]
    // light-my-request's socket: request.ip reads its remoteAddress.
    if (newVisitors) request.raw.socket.remoteAddress = freshIps[i]
    onRequest(request, reply, noop)
    onResponse(request, reply, noop)
    const raw = reply.raw
    raw.emit('close')
    // A real response is dropped with its listeners; this one is reused, so they go here.
    raw.removeAllListeners('close')
  }
  const used = process.cpuUsage(start)
  // In worker mode the process's CPU includes the delivery worker's: count the request thread alone.
  if (WORKER) return (mainThreadUs() - startMain) / CALLS
  return (used.user + used.system) / CALLS
}

/** The main thread's own CPU time in µs (Linux schedstat), for WORKER=1. */
function mainThreadUs () {
  if (!WORKER) return 0
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1000
}

if (process.env.ONCE === '1') {
  const dist = process.argv[2] === 'bare' ? undefined : otherDist
  measure(await build(dist, process.env.CONTEXT === '1'))
  process.exit(0)
}

const OFF = { visits: false, geo: false }
const configs = [['loop alone (subtracted)', undefined, false]]
if (process.env.VISITS === '1') {
  configs.push(
    ['returning visitor, visits+geo off', ownDist, false, OFF, false],
    ['returning visitor, visits+geo on', ownDist, false, {}, false],
    ['new visitor, visits+geo off', ownDist, false, OFF, true],
    ['new visitor, visits+geo on', ownDist, false, {}, true])
} else {
  for (const [label, dist] of [['this tree', ownDist], [process.argv[2], otherDist]]) {
    if (dist === undefined) continue
    configs.push([`${label}, requestContext: false`, dist, false], [`${label}, own request context`, dist, true])
  }
}
const entries = []
for (const [name, dist, context, extra, newVisitors] of configs) entries.push({ name, built: await build(dist, context, extra), newVisitors, figures: [] })
for (const entry of entries) measure(entry.built, entry.newVisitors) // warm-up: every path optimised before timing

for (let round = 0; round < ROUNDS && Date.now() < DEADLINE; round++) {
  // Rotate the order each round so drift and warm-up favour no configuration.
  for (let k = 0; k < entries.length; k++) {
    const entry = entries[(round + k) % entries.length]
    entry.figures.push(measure(entry.built, entry.newVisitors))
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1]
const base = entries[0].figures
console.log(`The plugin's own CPU µs per request: hooks minus the bare loop, paired per round; median of ${base.length} rounds of ${CALLS} calls`)
console.log(`${'loop alone'.padEnd(44)} ${median(base).toFixed(3)} µs per iteration`)
for (const entry of entries.slice(1)) {
  const added = entry.figures.map((us, i) => us - base[i])
  console.log(`${entry.name.padEnd(44)} ${median(added).toFixed(3)} µs  (rounds: ${added.map((v) => v.toFixed(2)).join(', ')})`)
}
for (const { built } of entries) await built.app.close()
